// nabla::nn umbrella: modules, layers, losses, init, clip_grad and the functional API (nabla::F).
//   #include <nabla/nn.h>
//   nabla::nn::Sequential net{nabla::nn::Linear(784, 64), nabla::nn::ReLU(), nabla::nn::Linear(64, 10)};
#pragma once
#include "nabla/nn/activation.h"
#include "nabla/nn/batchnorm.h"
#include "nabla/nn/container.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/dropout.h"
#include "nabla/nn/embedding.h"
#include "nabla/nn/flatten.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/loss.h"
#include "nabla/nn/module.h"
#include "nabla/nn/normalization.h"
#include "nabla/nn/pooling.h"
#include "nabla/nn/utils/clip_grad.h"
