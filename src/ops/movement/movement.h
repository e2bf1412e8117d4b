// Internal: CPU kernels of the movement family (registered by defs.cpp).
#pragma once
#include "ops/registry.h"

namespace nabla::ops::movement_cpu {
void copy(const Tensor* in, int n, Tensor* out, const Attrs& a);
void slice_backward(const Tensor* in, int n, Tensor* out, const Attrs& a);
void cat(const Tensor* in, int n, Tensor* out, const Attrs& a);
void pad(const Tensor* in, int n, Tensor* out, const Attrs& a);
}  // namespace nabla::ops::movement_cpu
