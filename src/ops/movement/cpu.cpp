// CPU kernels of the movement family: strided copies with dtype conversion.
#include <cstring>

#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "ops/cpu_loops.h"
#include "ops/movement/movement.h"

namespace nabla::ops::movement_cpu {
namespace {

template <typename D, typename S>
D convert(S v) {
  using C = cpu::compute_t<S>;
  if constexpr (std::is_same_v<D, bool>)
    return static_cast<C>(v) != C(0);
  else if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>)
    return D(static_cast<float>(static_cast<C>(v)));
  else
    return static_cast<D>(static_cast<C>(v));
}

/// dst[...] = src[...] converted, src broadcast to dst's shape; dst may be any strided view.
void copy_into(const Tensor& src, const Tensor& dst) {
  if (dst.numel() == 0) return;
  Shape ss = cpu::broadcast_strides(src, dst.shape());
  const Shape* strides[2] = {&dst.strides(), &ss};
  auto L = cpu::make_loop<2>(dst.shape(), strides);
  visit_dtype(dst.dtype(), [&](auto dtag) {
    using D = decltype(dtag);
    visit_dtype(src.dtype(), [&](auto stag) {
      using S = decltype(stag);
      D* d = static_cast<D*>(dst.raw_data());
      const S* s = static_cast<const S*>(src.raw_data());
      cpu::parallel_rows(L, [&](const int64_t* off, const int64_t* st, int64_t len) {
        D* dp = d + off[0];
        const S* sp = s + off[1];
        if constexpr (std::is_same_v<D, S>) {
          if (st[0] == 1 && st[1] == 1) {
            std::memcpy(dp, sp, len * sizeof(D));
            return;
          }
        }
        for (int64_t k = 0; k < len; ++k) dp[k * st[0]] = convert<D>(sp[k * st[1]]);
      });
    });
  });
}

void fill_value(const Tensor& dst, double v) {
  visit_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T val = convert<T>(v);
    T* p = static_cast<T*>(dst.raw_data());  // freshly allocated outputs are contiguous
    cpu::parallel_for(0, dst.numel(), cpu::kGrainSize, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) p[k] = val;
    });
  });
}

}  // namespace

void copy(const Tensor* in, int, Tensor* out, const Attrs&) { copy_into(in[0], out[0]); }

void slice_backward(const Tensor* in, int, Tensor* out, const Attrs& a) {
  NoGradGuard no_grad;
  fill_value(out[0], 0.0);
  copy_into(in[0], out[0].slice(a.i[0], a.i[1], a.i[2], a.i[3]));
}

void cat(const Tensor* in, int n, Tensor* out, const Attrs& a) {
  NoGradGuard no_grad;
  int64_t start = 0;
  for (int k = 0; k < n; ++k) {
    int64_t len = in[k].shape()[static_cast<int>(a.i[0])];
    copy_into(in[k], out[0].narrow(a.i[0], start, len));
    start += len;
  }
}

void pad(const Tensor* in, int, Tensor* out, const Attrs& a) {
  NoGradGuard no_grad;
  fill_value(out[0], a.f[0]);
  Tensor interior = out[0];
  for (int d = 0; d < in[0].dim(); ++d) interior = interior.narrow(d, a.i[2 * d], in[0].shape()[d]);
  copy_into(in[0], interior);
}

}  // namespace nabla::ops::movement_cpu
