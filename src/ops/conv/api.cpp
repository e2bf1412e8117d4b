// Public conv/pool API. 3-d inputs [C, H, W] are treated as one image, as in PyTorch.
#include "nabla/ops.h"
#include "ops/registry.h"

namespace nabla {
using ops::Attrs;
using ops::dispatch1;
using ops::OpId;

namespace {
Tensor as_dtype(const Tensor& t, DType d) { return t.dtype() == d ? t : t.to(d); }

// Runs f on a batched view of x ([C, H, W] gets a batch dim of 1, removed again after).
template <typename F>
Tensor batched(const char* op, const Tensor& x, const F& f) {
  NABLA_CHECK(x.dim() == 3 || x.dim() == 4, op, ": expected a 4-d input [N, C, H, W] (or 3-d [C, H, W]), got shape ",
              x.shape());
  if (x.dim() == 4) return f(x);
  return f(x.unsqueeze(0)).squeeze(0);
}

Attrs pool_attrs(const Pool2dOptions& o) {
  Attrs a;
  for (int d = 0; d < 2; ++d) {
    a.i[d] = o.kernel[d];
    a.i[2 + d] = o.stride[d] == 0 ? o.kernel[d] : o.stride[d];
    a.i[4 + d] = o.padding[d];
  }
  return a;
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& opt) {
  Attrs a;
  for (int d = 0; d < 2; ++d) {
    a.i[d] = opt.stride[d];
    a.i[2 + d] = opt.padding[d];
    a.i[4 + d] = opt.dilation[d];
  }
  a.i[6] = opt.groups;
  DType t = promote_types(x.dtype(), weight.dtype());
  if (bias.defined()) t = promote_types(t, bias.dtype());
  return batched("conv2d", x, [&](const Tensor& xb) {
    if (bias.defined()) return dispatch1(OpId::conv2d, {as_dtype(xb, t), as_dtype(weight, t), as_dtype(bias, t)}, a);
    return dispatch1(OpId::conv2d, {as_dtype(xb, t), as_dtype(weight, t)}, a);
  });
}

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  Attrs a = pool_attrs(opt);
  return batched("max_pool2d", x, [&](const Tensor& xb) {
    Tensor out[2];
    ops::dispatch(OpId::max_pool2d, &xb, 1, a, out);
    return out[0];
  });
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  Attrs a = pool_attrs(opt);
  return batched("avg_pool2d", x, [&](const Tensor& xb) { return dispatch1(OpId::avg_pool2d, {xb}, a); });
}

Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  Attrs a;
  a.i[0] = out_h;
  a.i[1] = out_w;
  return batched("adaptive_avg_pool2d", x, [&](const Tensor& xb) { return dispatch1(OpId::adaptive_avg_pool2d, {xb}, a); });
}

}  // namespace nabla
