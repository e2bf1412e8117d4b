// nabla::F batch_norm / layer_norm / group_norm as composites of core ops. Statistics are a mean
// and a biased variance over the normalised dims; the affine part is folded into one per-channel
// scale so the full-size work is: mean, (x - mean), square + mean, one multiply, one add.
#include "nabla/nn/functional/normalization.h"

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla::F {
namespace {

/// [1, C, 1, ...] for an input of x.dim() dims, so a [C] tensor broadcasts along dim 1.
Shape channel_shape(const Tensor& x, int64_t channels) {
  Shape s;
  for (int d = 0; d < x.dim(); ++d) s.push_back(d == 1 ? channels : 1);
  return s;
}

void check_channel_tensor(const Tensor& t, int64_t channels, const char* what, const Tensor& x,
                          const char* who) {
  if (!t.defined()) return;
  NABLA_CHECK(t.dim() == 1 && t.numel() == channels, who, ": ", what, " must have shape [", channels,
              "] for an input of shape ", x.shape(), ", got ", t.shape());
}

/// (x - mean) * rsqrt(var + eps) with biased statistics over `dims` (kept for broadcasting).
struct Normalized {
  Tensor centered, rstd, mean, var;
};
Normalized normalize(const Tensor& x, const Shape& dims, double eps) {
  Normalized n;
  n.mean = mean(x, dims, true);
  n.centered = x - n.mean;
  n.var = mean(n.centered * n.centered, dims, true);
  n.rstd = rsqrt(n.var + Scalar(eps));
  return n;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps) {
  const char* who = "batch_norm";
  NABLA_CHECK(x.dim() >= 2, who, ": expected an input of shape [N, C] or [N, C, *], got ", x.shape());
  NABLA_CHECK(is_floating(x.dtype()), who, ": expected a floating point input, got ", x.dtype());
  const int64_t c = x.size(1);
  check_channel_tensor(running_mean, c, "running_mean", x, who);
  check_channel_tensor(running_var, c, "running_var", x, who);
  check_channel_tensor(weight, c, "weight", x, who);
  check_channel_tensor(bias, c, "bias", x, who);
  NABLA_CHECK(training || (running_mean.defined() && running_var.defined()), who,
              ": running_mean and running_var are required when not training");
  const Shape cs = channel_shape(x, c);
  Tensor mu, rstd;  // [1, C, 1, ...]
  if (training) {
    Shape dims;
    for (int d = 0; d < x.dim(); ++d)
      if (d != 1) dims.push_back(d);
    const int64_t count = x.numel() / std::max<int64_t>(c, 1);
    NABLA_CHECK(count > 1, who, ": expected more than 1 value per channel when training, got input of shape ",
                x.shape());
    Normalized n = normalize(x, dims, eps);
    mu = n.mean;
    rstd = n.rstd;
    if (running_mean.defined() || running_var.defined()) {
      // PyTorch updates running_var with the unbiased batch variance.
      NoGradGuard no_grad;
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      Tensor rm = running_mean,
             rv = running_var;  // handles: the in-place update reaches the caller's buffers
      if (rm.defined())
        rm.mul_(Scalar(1.0 - momentum)).add_(n.mean.detach().reshape({c}).to(rm.dtype()), momentum);
      if (rv.defined())
        rv.mul_(Scalar(1.0 - momentum)).add_(n.var.detach().reshape({c}).to(rv.dtype()), momentum * unbias);
    }
  } else {
    mu = running_mean.reshape(cs);
    rstd = rsqrt(running_var.reshape(cs) + Scalar(eps));
  }
  // y = x * alpha + beta with per-channel alpha = rstd * weight, beta = bias - mean * alpha (as
  // PyTorch's CPU kernel): two full-size passes forward and fewer autograd nodes on x's size.
  Tensor alpha = weight.defined() ? rstd * weight.reshape(cs) : rstd;
  Tensor beta = -(mu * alpha);
  if (bias.defined()) beta = beta + bias.reshape(cs);
  return x * alpha + beta;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* who = "layer_norm";
  const int k = static_cast<int>(normalized_shape.size());
  NABLA_CHECK(k >= 1, who, ": normalized_shape must not be empty");
  NABLA_CHECK(is_floating(x.dtype()), who, ": expected a floating point input, got ", x.dtype());
  bool match = x.dim() >= k;
  for (int i = 0; match && i < k; ++i) match = x.shape()[x.dim() - k + i] == normalized_shape[i];
  NABLA_CHECK(match, who, ": normalized_shape ", normalized_shape, " does not match the last dims of input ",
              x.shape());
  NABLA_CHECK(!weight.defined() || weight.shape() == normalized_shape, who, ": weight must have shape ",
              normalized_shape, ", got ", weight.shape());
  NABLA_CHECK(!bias.defined() || bias.shape() == normalized_shape, who, ": bias must have shape ",
              normalized_shape, ", got ", bias.shape());
  Shape dims;
  for (int d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  Normalized n = normalize(x, dims, eps);
  Tensor y = n.centered * n.rstd;
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  const char* who = "group_norm";
  NABLA_CHECK(x.dim() >= 2, who, ": expected an input of shape [N, C, *], got ", x.shape());
  NABLA_CHECK(is_floating(x.dtype()), who, ": expected a floating point input, got ", x.dtype());
  const int64_t c = x.size(1);
  NABLA_CHECK(num_groups > 0 && c % num_groups == 0, who, ": the number of channels (", c,
              ") must be divisible by num_groups (", num_groups, ")");
  check_channel_tensor(weight, c, "weight", x, who);
  check_channel_tensor(bias, c, "bias", x, who);
  // [N, C, *] -> [N, G, C/G * prod(*)]: each row of the last dim is one group of one sample.
  int64_t inner = c / num_groups;
  for (int d = 2; d < x.dim(); ++d) inner *= x.size(d);
  Tensor g = x.reshape({x.size(0), num_groups, inner});
  Normalized n = normalize(g, {2}, eps);
  Tensor y = (n.centered * n.rstd).reshape(x.shape());
  const Shape cs = channel_shape(x, c);
  if (weight.defined()) y = y * weight.reshape(cs);
  if (bias.defined()) y = y + bias.reshape(cs);
  return y;
}

}  // namespace nabla::F
