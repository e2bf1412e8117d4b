// max_pool2d_with_indices and max_unpool2d (PyTorch's return_indices=True and MaxUnpool2d).
// The plain max_pool2d op already computes the argmax (its backward needs it), so the plain path
// just returns that second output; ceil_mode/dilation pools compute the indices by the same window
// scan as PyTorch (pool_general.cpp). max_unpool2d is a scatter_add of the values to their indices
// per (N, C) plane, so its gradient is a gather, as in PyTorch.
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"
#include "ops/conv/pool_general.h"
#include "ops/registry.h"

namespace nabla {

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Pool2dOptions& opt) {
  if (detail::pool_needs_general(opt, true))
    return {detail::max_pool2d_general(x, opt), detail::max_pool2d_general_indices(x, opt)};
  NABLA_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), "max_pool2d_with_indices: expected a 4-d input ",
              "[N, C, H, W] (or 3-d [C, H, W]), got shape ", x.defined() ? x.shape() : Shape{});
  ops::Attrs a;
  for (int d = 0; d < 2; ++d) {
    a.i[d] = opt.kernel[d];
    a.i[2 + d] = opt.stride[d] == 0 ? opt.kernel[d] : opt.stride[d];
    a.i[4 + d] = opt.padding[d];
  }
  const Tensor xb = x.dim() == 4 ? x : x.unsqueeze(0);
  Tensor out[2];
  ops::dispatch(ops::OpId::max_pool2d, &xb, 1, a, out);
  if (x.dim() == 3) return {out[0].squeeze(0), out[1].squeeze(0)};
  return {out[0], out[1]};
}

Tensor max_unpool2d(const Tensor& x, const Tensor& indices, const MaxUnpool2dOptions& opt) {
  const char* op = "max_unpool2d";
  NABLA_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), op,
              ": expected a 4-d input [N, C, H, W] (or 3-d [C, H, W]), got shape ",
              x.defined() ? x.shape() : Shape{});
  NABLA_CHECK(is_floating(x.dtype()), op, ": expected a floating-point input, got ", x.dtype());
  NABLA_CHECK(indices.defined() && indices.dtype() == kInt64, op,
              ": indices must be the int64 indices of max_pool2d_with_indices, got ",
              indices.defined() ? dtype_name(indices.dtype()) : "an undefined tensor");
  NABLA_CHECK(indices.shape() == x.shape(), op, ": indices of shape ", indices.shape(),
              " must have the input's shape ", x.shape());
  const Tensor x4 = x.dim() == 4 ? x : x.unsqueeze(0);
  const Tensor i4 = indices.dim() == 4 ? indices : indices.unsqueeze(0);
  int64_t def[2], stride[2], out_hw[2];
  for (int d = 0; d < 2; ++d) {
    const int64_t k = opt.kernel[d], p = opt.padding[d];
    stride[d] = opt.stride[d] == 0 ? k : opt.stride[d];
    NABLA_CHECK(k > 0 && stride[d] > 0 && p >= 0, op,
                ": kernel and stride must be positive and padding non-negative, got kernel [", opt.kernel[0],
                ", ", opt.kernel[1], "], stride [", opt.stride[0], ", ", opt.stride[1], "], padding [",
                opt.padding[0], ", ", opt.padding[1], "]");
    def[d] = (x4.size(2 + d) - 1) * stride[d] - 2 * p + k;
    out_hw[d] = opt.output_size[d] == 0 ? def[d] : opt.output_size[d];
  }
  // PyTorch accepts the sizes max_pool2d could have pooled down to this input.
  for (int d = 0; d < 2; ++d)
    NABLA_CHECK(out_hw[d] > 0 && out_hw[d] > def[d] - stride[d] && out_hw[d] < def[d] + stride[d], op,
                ": output_size [", out_hw[0], ", ", out_hw[1], "] must be within one stride of the default [",
                def[0], ", ", def[1], "]");
  const int64_t planes = x4.size(0) * x4.size(1), plane = out_hw[0] * out_hw[1];
  const Tensor vals = x4.reshape({planes, -1});
  const Tensor idx = i4.reshape({planes, -1});
  // scatter_add names an index outside the plane ("index 70 is out of range for dim 1 with size 64").
  Tensor sums = scatter_add(zeros({planes, plane}, x.dtype()), 1, idx, vals);
  Tensor counts;
  {
    NoGradGuard no_grad;
    counts = scatter_add(zeros({planes, plane}, x.dtype()), 1, idx, ones_like(vals.detach()));
  }
  // An index named by several windows (overlapping pools) holds the same value each time: keep
  // it once, as PyTorch's write does.
  Tensor y =
      (sums / clamp(counts, 1.0, std::nullopt)).reshape({x4.size(0), x4.size(1), out_hw[0], out_hw[1]});
  return x.dim() == 4 ? y : y.squeeze(0);
}

}  // namespace nabla
