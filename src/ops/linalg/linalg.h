// Internal: CPU kernels of the linalg family (registered by defs.cpp).
#pragma once
#include "ops/registry.h"

namespace nabla::ops::linalg_cpu {
void matmul(const Tensor* in, int n, Tensor* out, const Attrs& a);
void linear(const Tensor* in, int n, Tensor* out, const Attrs& a);
}  // namespace nabla::ops::linalg_cpu
