// Public conv/pool API. 3-d inputs [C, H, W] are treated as one image, as in PyTorch.
#include "nabla/ops.h"
#include "ops/conv/pool_general.h"
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
  NABLA_CHECK(x.dim() == 3 || x.dim() == 4, op,
              ": expected a 4-d input [N, C, H, W] (or 3-d [C, H, W]), got shape ", x.shape());
  if (x.dim() == 4) return f(x);
  return f(x.unsqueeze(0)).squeeze(0);
}

// The dtype a conv computes in: x's, weight's and (if given) bias' promoted.
DType conv_dtype(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const DType t = promote_types(x.dtype(), weight.dtype());
  return bias.defined() ? promote_types(t, bias.dtype()) : t;
}

// conv2d's i0..i6 (conv_transpose2d's too: its op is conv2d's input gradient).
template <typename Options>
Attrs conv_attrs(const Options& opt) {
  Attrs a;
  for (int d = 0; d < 2; ++d) {
    a.i[d] = opt.stride[d];
    a.i[2 + d] = opt.padding[d];
    a.i[4 + d] = opt.dilation[d];
  }
  a.i[6] = opt.groups;
  return a;
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
  const Attrs a = conv_attrs(opt);
  const DType t = conv_dtype(x, weight, bias);
  return batched("conv2d", x, [&](const Tensor& xb) {
    if (bias.defined())
      return dispatch1(OpId::conv2d, {as_dtype(xb, t), as_dtype(weight, t), as_dtype(bias, t)}, a);
    return dispatch1(OpId::conv2d, {as_dtype(xb, t), as_dtype(weight, t)}, a);
  });
}

// A transposed convolution is conv2d's input gradient: conv2d_input_grad(x, w) with the output
// shape as attribute. Its VJP (conv2d for x, conv2d_weight_grad for w) comes with the op.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& opt) {
  const char* op = "conv_transpose2d";
  NABLA_CHECK(weight.dim() == 4, op, ": expected a 4-d weight [C_in, C_out/groups, kH, kW], got shape ",
              weight.shape());
  NABLA_CHECK(opt.groups > 0, op, ": groups must be positive, got ", opt.groups);
  for (int d = 0; d < 2; ++d) {
    NABLA_CHECK(opt.stride[d] > 0 && opt.dilation[d] > 0, op,
                ": stride and dilation must be positive, got stride [", opt.stride[0], ", ", opt.stride[1],
                "] and dilation [", opt.dilation[0], ", ", opt.dilation[1], "]");
    NABLA_CHECK(opt.padding[d] >= 0 && opt.output_padding[d] >= 0 && opt.output_padding[d] < opt.stride[d],
                op, ": padding must be non-negative and output_padding in [0, stride), got padding [",
                opt.padding[0], ", ", opt.padding[1], "], output_padding [", opt.output_padding[0], ", ",
                opt.output_padding[1], "], stride [", opt.stride[0], ", ", opt.stride[1], "]");
  }
  Attrs a = conv_attrs(opt);
  const DType t = conv_dtype(x, weight, bias);
  NABLA_CHECK(is_floating(t), op, ": expected floating-point tensors, got ", x.dtype(), " and ",
              weight.dtype());
  int64_t cout = weight.size(1) * opt.groups;
  if (bias.defined())
    NABLA_CHECK(bias.dim() == 1 && bias.size(0) == cout, op, ": bias of shape ", bias.shape(),
                " does not match weight ", weight.shape(), " (expected [", cout, "])");
  return batched(op, x, [&](const Tensor& xb) {
    NABLA_CHECK(xb.size(1) == weight.size(0), op, ": input ", x.shape(), " has ", xb.size(1),
                " channels but weight ", weight.shape(), " expects ", weight.size(0));
    NABLA_CHECK(weight.size(0) % opt.groups == 0, op, ": weight ", weight.shape(), " has ", weight.size(0),
                " input channels, not divisible by groups=", opt.groups);
    int64_t out[2];
    for (int d = 0; d < 2; ++d) {
      int64_t in = xb.size(2 + d), k = weight.size(2 + d);
      out[d] = (in - 1) * opt.stride[d] - 2 * opt.padding[d] + opt.dilation[d] * (k - 1) +
               opt.output_padding[d] + 1;
      NABLA_CHECK(out[d] > 0, op, ": input ", x.shape(), " with weight ", weight.shape(),
                  " gives an empty output (size ", out[d], ")");
    }
    a.shape = Shape{xb.size(0), cout, out[0], out[1]};
    Tensor y = dispatch1(OpId::conv2d_input_grad, {as_dtype(xb, t), as_dtype(weight, t)}, a);
    if (bias.defined()) y = y + as_dtype(bias, t).view({1, cout, 1, 1});
    return y;
  });
}

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  if (detail::pool_needs_general(opt, true)) return detail::max_pool2d_general(x, opt);
  Attrs a = pool_attrs(opt);
  return batched("max_pool2d", x, [&](const Tensor& xb) {
    Tensor out[2];
    ops::dispatch(OpId::max_pool2d, &xb, 1, a, out);
    return out[0];
  });
}

Tensor relu_max_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  // ceil_mode / dilation are composed from plain ops (pool_general.cpp); the fused kernel knows
  // neither, so those pools take the unfused route.
  if (detail::pool_needs_general(opt, true)) return detail::max_pool2d_general(relu(x), opt);
  Attrs a = pool_attrs(opt);
  return batched("relu_max_pool2d", x, [&](const Tensor& xb) {
    Tensor out[2];
    ops::dispatch(OpId::relu_max_pool2d, &xb, 1, a, out);
    return out[0];
  });
}

Tensor conv2d_relu_max_pool2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& conv,
                              const Pool2dOptions& pool) {
  // ceil_mode / dilation pools: the unfused route (relu_max_pool2d composes them).
  if (detail::pool_needs_general(pool, true)) return relu_max_pool2d(conv2d(x, weight, bias, conv), pool);
  Attrs a = conv_attrs(conv);
  const Attrs pa = pool_attrs(pool);
  for (int j = 0; j < 6; ++j) a.i[7 + j] = pa.i[j];  // i13 = 0: int64 indices (twice differentiable)
  const DType t = conv_dtype(x, weight, bias);
  return batched("conv2d_relu_max_pool2d", x, [&](const Tensor& xb) {
    Tensor in[3] = {as_dtype(xb, t), as_dtype(weight, t), bias.defined() ? as_dtype(bias, t) : Tensor()};
    Tensor out[2];
    ops::dispatch(OpId::conv2d_relu_max_pool2d, in, bias.defined() ? 3 : 2, a, out);
    return out[0];
  });
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  if (detail::pool_needs_general(opt, false)) return detail::avg_pool2d_general(x, opt);
  Attrs a = pool_attrs(opt);
  return batched("avg_pool2d", x, [&](const Tensor& xb) { return dispatch1(OpId::avg_pool2d, {xb}, a); });
}

Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  Attrs a;
  a.i[0] = out_h;
  a.i[1] = out_w;
  return batched("adaptive_avg_pool2d", x,
                 [&](const Tensor& xb) { return dispatch1(OpId::adaptive_avg_pool2d, {xb}, a); });
}

}  // namespace nabla
