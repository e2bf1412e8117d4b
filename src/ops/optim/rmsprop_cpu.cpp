// CPU kernel of rmsprop_step: one fused pass per parameter (PyTorch 1.13's _single_tensor_rmsprop),
// shared by the eager RMSprop optimizer and compiled training graphs. The per-element math is
// rmsprop_range in update_math.h (float32 with AVX-512: the square root off the divider). Each
// element's update depends only on that element, so results do not depend on the thread count.
#include <cmath>
#include <cstring>

#include "backend/cpu/parallel.h"
#include "ops/optim/update_math.h"
#include "ops/registry.h"

namespace nabla::ops::optim_cpu {
namespace {

/// Makes out hold in's values (no-op when they share memory), so the update runs in place.
void same_data(const Tensor& in, const Tensor& out) {
  if (out.numel() == 0 || in.raw_data() == out.raw_data()) return;
  if (in.is_contiguous()) {
    std::memcpy(out.raw_data(), in.raw_data(), out.numel() * dtype_size(out.dtype()));
    return;
  }
  Attrs a;
  a.dtype = in.dtype();
  Tensor c = out;
  op_def(OpId::copy).kernels[kCpu](&in, 1, &c, a);
}

template <typename F>
void with_bool(bool b, const F& f) {
  if (b)
    f.template operator()<true>();
  else
    f.template operator()<false>();
}

}  // namespace

void rmsprop_step(const Tensor* in, int, Tensor* out, const Attrs&) {
  const double* h = static_cast<const double*>(in[5].raw_data());
  const double lr = h[0], alpha = h[1], eps = h[2], wd = h[3], momentum_v = h[4];
  const bool momentum = out[2].numel() > 0, centered = out[3].numel() > 0;
  same_data(in[0], out[0]);
  for (int j = 1; j < 4; ++j) same_data(in[j + 1], out[j]);
  Tensor grad = in[1];
  if (!grad.is_contiguous()) {  // graph values may be views: a contiguous copy (no dispatch here)
    auto impl = std::make_shared<detail::TensorImpl>();
    impl->storage = detail::allocate_storage(grad.numel() * dtype_size(grad.dtype()), grad.device());
    impl->shape = grad.shape();
    impl->strides = contiguous_strides(grad.shape());
    impl->dtype = grad.dtype();
    Tensor c(std::move(impl));
    Attrs a;
    a.dtype = grad.dtype();
    op_def(OpId::copy).kernels[kCpu](&in[1], 1, &c, a);
    grad = c;
  }
  const int64_t n = out[0].numel();
  // Split at row boundaries, where the weight's GEMMs split it (parallel_for_rows, gemm.h).
  const int64_t rows = out[0].dim() >= 2 ? out[0].size(0) : n;
  auto run = [&]<typename T>() {
    const RMSpropConsts<T> c{T(-lr), T(alpha), T(1 - alpha), T(eps), T(wd), T(momentum_v)};
    T* p = static_cast<T*>(out[0].raw_data());
    const T* g = static_cast<const T*>(grad.raw_data());
    T* sq = static_cast<T*>(out[1].raw_data());
    T* buf = momentum ? static_cast<T*>(out[2].raw_data()) : nullptr;
    T* gavg = centered ? static_cast<T*>(out[3].raw_data()) : nullptr;
    with_bool(wd != 0, [&]<bool kWd>() {
      with_bool(centered, [&]<bool kCentered>() {
        with_bool(momentum, [&]<bool kMom>() {
          cpu::parallel_for_rows(n, rows, cpu::kUpdateGrainSize, [&](int64_t b, int64_t e) {
            rmsprop_range<T, kWd, kCentered, kMom>(p, g, sq, gavg, buf, b, e, c);
          });
        });
      });
    });
  };
  if (out[0].dtype() == kFloat64)
    run.template operator()<double>();
  else
    run.template operator()<float>();
}

}  // namespace nabla::ops::optim_cpu
