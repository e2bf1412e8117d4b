// Internal: CPU kernels of the index family (registered by defs.cpp).
#pragma once
#include "ops/registry.h"

namespace nabla::ops::index_cpu {
void gather(const Tensor* in, int n, Tensor* out, const Attrs& a);
void scatter_add(const Tensor* in, int n, Tensor* out, const Attrs& a);
void index_select(const Tensor* in, int n, Tensor* out, const Attrs& a);
void index_add(const Tensor* in, int n, Tensor* out, const Attrs& a);
}  // namespace nabla::ops::index_cpu
