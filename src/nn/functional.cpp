// nabla::F functions that are more than a one-line forward (bilinear, conv1d).
#include "nabla/nn/functional.h"

namespace nabla::F {

Tensor bilinear(const Tensor& x1, const Tensor& x2, const Tensor& weight, const Tensor& bias) {
  NABLA_CHECK(weight.dim() == 3, "bilinear: expected a 3-d weight [out, in1, in2], got shape ",
              weight.shape());
  int64_t out = weight.size(0), in1 = weight.size(1), in2 = weight.size(2);
  NABLA_CHECK(x1.dim() >= 1 && x2.dim() >= 1 && x1.size(-1) == in1 && x2.size(-1) == in2,
              "bilinear: inputs of shapes ", x1.shape(), " and ", x2.shape(), " do not match weight ",
              weight.shape(), " (expected [..., ", in1, "] and [..., ", in2, "])");
  NABLA_CHECK(x1.dim() == x2.dim(), "bilinear: inputs of shapes ", x1.shape(), " and ", x2.shape(),
              " must have the same leading dims");
  for (int d = 0; d < x1.dim() - 1; ++d)
    NABLA_CHECK(x1.size(d) == x2.size(d), "bilinear: inputs of shapes ", x1.shape(), " and ", x2.shape(),
                " must have the same leading dims");
  if (bias.defined())
    NABLA_CHECK(bias.dim() == 1 && bias.size(0) == out, "bilinear: bias of shape ", bias.shape(),
                " does not match weight ", weight.shape(), " (expected [", out, "])");
  Shape lead(x1.shape().data(), x1.dim() - 1);
  Tensor a = x1.reshape({-1, in1}), b = x2.reshape({-1, in2});
  // (x1 @ W_i) for every output k at once: [B, in1] @ [in1, out * in2], then contract with x2.
  Tensor wk = weight.permute({1, 0, 2}).reshape({in1, out * in2});
  Tensor y = (matmul(a, wk).view({-1, out, in2}) * b.unsqueeze(1)).sum({2});
  if (bias.defined()) y = y + bias;
  Shape out_shape = lead;
  out_shape.push_back(out);
  return y.view(out_shape);
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv1dOptions& opt) {
  NABLA_CHECK(x.dim() == 2 || x.dim() == 3,
              "conv1d: expected a 3-d input [N, C, L] (or 2-d [C, L]), got shape ", x.shape());
  NABLA_CHECK(weight.dim() == 3, "conv1d: expected a 3-d weight [C_out, C_in/groups, k], got shape ",
              weight.shape());
  Tensor xb = x.dim() == 2 ? x.unsqueeze(0) : x;
  Conv2dOptions o;
  o.stride[1] = opt.stride;
  o.padding[1] = opt.padding;
  o.dilation[1] = opt.dilation;
  o.groups = opt.groups;
  Tensor y = nabla::conv2d(xb.unsqueeze(2), weight.unsqueeze(2), bias, o).squeeze(2);
  return x.dim() == 2 ? y.squeeze(0) : y;
}

}  // namespace nabla::F
