// nabla: a C++ deep-learning framework. This umbrella header pulls in the whole core API;
// include the fine-grained headers (<nabla/tensor.h>, <nabla/ops.h>, ...) to keep builds fast.
//
//   #include <nabla/nabla.h>
//   auto w = nabla::randn({3, 1}).set_requires_grad(true);
//   auto loss = nabla::matmul(nabla::randn({8, 3}), w).pow(2).mean();
//   loss.backward();                 // w.grad() holds d loss / d w
#pragma once
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/generator.h"
#include "nabla/jit.h"
#include "nabla/ops.h"
#include "nabla/runtime.h"
#include "nabla/scalar.h"
#include "nabla/shape.h"
#include "nabla/tensor.h"
