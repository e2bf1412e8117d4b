// Internal: run a float32 kernel body for float16/bfloat16 tensors (storage-only types).
#pragma once
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "ops/registry.h"

namespace nabla::ops {

/// Calls f(float32 copies of in[0..n), float32 output) and converts the result into out.
template <typename F>
void run_in_float32(const Tensor* in, int n, const Tensor& out, const F& f) {
  NoGradGuard no_grad;
  Tensor args[4];
  for (int i = 0; i < n; ++i) args[i] = in[i].to(kFloat32);
  Tensor o32 = empty(out.shape(), kFloat32);
  f(args, o32);
  Attrs ca;
  ca.dtype = out.dtype();
  Tensor dst = out;
  op_def(OpId::copy).kernels[kCpu](&o32, 1, &dst, ca);
}

}  // namespace nabla::ops
