// BatchNorm1d/2d, LayerNorm, GroupNorm: parameters, buffers, train/eval behaviour and printing.
// The arithmetic is nabla::F (src/nn/functional/normalization.cpp); the layers check shapes first
// so their errors carry the layer's name.
#include "nabla/nn/normalization.h"

#include <sstream>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/nn/batchnorm.h"
#include "nabla/nn/functional/normalization.h"
#include "nn/repr.h"

namespace nabla::nn {
namespace detail {
namespace {
/// The layer name for errors (name() is virtual, so not usable in the constructor, and it
/// demangles, which forward should not pay for).
template <typename Derived>
constexpr const char* bn_name() {
  return std::is_same_v<Derived, BatchNorm1dImpl> ? "BatchNorm1d" : "BatchNorm2d";
}
}  // namespace

template <typename Derived>
BatchNormImplBase<Derived>::BatchNormImplBase(const Options& o) : options(o) {
  NABLA_CHECK(o.num_features > 0, bn_name<Derived>(), ": num_features must be positive, got ",
              o.num_features);
  NABLA_CHECK(o.eps >= 0, bn_name<Derived>(), ": eps must be non-negative, got ", o.eps);
  reset();
}

template <typename Derived>
void BatchNormImplBase<Derived>::reset() {
  const int64_t c = options.num_features;
  weight = this->register_parameter("weight", options.affine ? empty({c}) : Tensor());
  bias = this->register_parameter("bias", options.affine ? empty({c}) : Tensor());
  if (options.track_running_stats) {
    running_mean = this->register_buffer("running_mean", zeros({c}));
    running_var = this->register_buffer("running_var", ones({c}));
    num_batches_tracked = this->register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
  reset_parameters();
}

template <typename Derived>
void BatchNormImplBase<Derived>::reset_running_stats() {
  if (!options.track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

template <typename Derived>
void BatchNormImplBase<Derived>::reset_parameters() {
  reset_running_stats();
  if (!options.affine) return;
  NoGradGuard no_grad;
  weight.fill_(1);
  bias.zero_();
}

template <typename Derived>
Tensor BatchNormImplBase<Derived>::forward(Tensor x) {
  const char* who = bn_name<Derived>();
  const bool is1d = std::is_same_v<Derived, BatchNorm1dImpl>;
  NABLA_CHECK(is1d ? (x.dim() == 2 || x.dim() == 3) : x.dim() == 4, who, ": expected ",
              is1d ? "a 2-d [N, C] or 3-d [N, C, L]" : "a 4-d [N, C, H, W]", " input, got shape ", x.shape());
  NABLA_CHECK(x.size(1) == options.num_features, who, ": expected ", options.num_features,
              " channels (num_features) in dim 1, got input of shape ", x.shape());
  const bool training = this->is_training();
  NABLA_CHECK(!training || x.numel() / options.num_features != 1, who,
              ": expected more than 1 value per channel when training, got input of shape ", x.shape());
  double factor = options.momentum.value_or(0.0);
  if (training && options.track_running_stats) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(Scalar(int64_t{1}));
    if (!options.momentum) factor = 1.0 / static_cast<double>(num_batches_tracked.template item<int64_t>());
  }
  // Batch statistics while training, or always when there are no running stats (like PyTorch).
  const bool use_batch = training || !running_mean.defined();
  const bool pass_buffers = !training || options.track_running_stats;
  return F::batch_norm(x, pass_buffers ? running_mean : Tensor(), pass_buffers ? running_var : Tensor(),
                       weight, bias, use_batch, factor, options.eps);
}

template <typename Derived>
std::string BatchNormImplBase<Derived>::extra_repr() const {
  std::ostringstream os;
  os << options.num_features << ", eps=" << repr::py_float(options.eps)
     << ", momentum=" << (options.momentum ? repr::py_float(*options.momentum) : std::string("None"))
     << ", affine=" << repr::py_bool(options.affine)
     << ", track_running_stats=" << repr::py_bool(options.track_running_stats);
  return os.str();
}

}  // namespace detail

template class detail::BatchNormImplBase<BatchNorm1dImpl>;
template class detail::BatchNormImplBase<BatchNorm2dImpl>;

// ---- LayerNorm -------------------------------------------------------------------------------

LayerNormImpl::LayerNormImpl(const Options& o) : options(o) {
  NABLA_CHECK(o.normalized_shape.size() > 0, "LayerNorm: normalized_shape must not be empty");
  for (int64_t d : o.normalized_shape)
    NABLA_CHECK(d > 0, "LayerNorm: normalized_shape must have positive sizes, got ", o.normalized_shape);
  reset();
}

void LayerNormImpl::reset() {
  const bool a = options.elementwise_affine;
  weight = register_parameter("weight", a ? empty(options.normalized_shape) : Tensor());
  bias = register_parameter("bias", a ? empty(options.normalized_shape) : Tensor());
  reset_parameters();
}

void LayerNormImpl::reset_parameters() {
  if (!options.elementwise_affine) return;
  NoGradGuard no_grad;
  weight.fill_(1);
  bias.zero_();
}

Tensor LayerNormImpl::forward(Tensor x) {
  const Shape& ns = options.normalized_shape;
  const int k = static_cast<int>(ns.size());
  bool match = x.dim() >= k;
  for (int i = 0; match && i < k; ++i) match = x.shape()[x.dim() - k + i] == ns[i];
  NABLA_CHECK(match, "LayerNorm: expected an input whose last dims are ", ns,
              " (normalized_shape), got shape ", x.shape());
  return F::layer_norm(x, ns, weight, bias, options.eps);
}

std::string LayerNormImpl::extra_repr() const {
  std::ostringstream os;
  os << "(";
  for (int i = 0; i < options.normalized_shape.size(); ++i)
    os << (i ? ", " : "") << options.normalized_shape[i];
  os << (options.normalized_shape.size() == 1 ? ",)" : ")");
  os << ", eps=" << repr::py_float(options.eps)
     << ", elementwise_affine=" << repr::py_bool(options.elementwise_affine);
  return os.str();
}

// ---- GroupNorm -------------------------------------------------------------------------------

GroupNormImpl::GroupNormImpl(const Options& o) : options(o) {
  NABLA_CHECK(o.num_groups > 0 && o.num_channels > 0 && o.num_channels % o.num_groups == 0,
              "GroupNorm: num_channels (", o.num_channels, ") must be a positive multiple of num_groups (",
              o.num_groups, ")");
  reset();
}

void GroupNormImpl::reset() {
  const int64_t c = options.num_channels;
  weight = register_parameter("weight", options.affine ? empty({c}) : Tensor());
  bias = register_parameter("bias", options.affine ? empty({c}) : Tensor());
  reset_parameters();
}

void GroupNormImpl::reset_parameters() {
  if (!options.affine) return;
  NoGradGuard no_grad;
  weight.fill_(1);
  bias.zero_();
}

Tensor GroupNormImpl::forward(Tensor x) {
  NABLA_CHECK(x.dim() >= 2 && x.size(1) == options.num_channels, "GroupNorm: expected an input of shape [N, ",
              options.num_channels, ", *] (num_channels), got shape ", x.shape());
  return F::group_norm(x, options.num_groups, weight, bias, options.eps);
}

std::string GroupNormImpl::extra_repr() const {
  std::ostringstream os;
  os << options.num_groups << ", " << options.num_channels << ", eps=" << repr::py_float(options.eps)
     << ", affine=" << repr::py_bool(options.affine);
  return os.str();
}

}  // namespace nabla::nn
