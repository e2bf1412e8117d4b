// Internal: CPU kernels of the movement family (registered by defs.cpp).
#pragma once
#include "ops/registry.h"

namespace nabla::ops {
/// Strides that let `in` be viewed as `shape` without copying; false when none exist.
bool view_strides_for(const Tensor& in, const Shape& shape, Shape& strides);
}  // namespace nabla::ops

namespace nabla::ops::movement_cpu {
void copy(const Tensor* in, int n, Tensor* out, const Attrs& a);
void slice_backward(const Tensor* in, int n, Tensor* out, const Attrs& a);
void cat(const Tensor* in, int n, Tensor* out, const Attrs& a);
void pad(const Tensor* in, int n, Tensor* out, const Attrs& a);
}  // namespace nabla::ops::movement_cpu
