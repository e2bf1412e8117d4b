// Keras BatchNormalization / LayerNormalization over nn::BatchNorm1d/2d and nn::LayerNorm.
#include "nabla/keras/layers/normalization.h"

namespace nabla::keras::layers {

BatchNormalizationImpl::BatchNormalizationImpl(const BatchNormalizationOptions& o)
    : Layer("BatchNormalization", "batch_normalization", o.name, o.input_shape), options(o) {
  NABLA_CHECK(o.momentum >= 0 && o.momentum <= 1, "BatchNormalization: momentum must be in [0, 1], got ",
              o.momentum);
  NABLA_CHECK(o.center == o.scale,
              "BatchNormalization: center and scale must be both true or both false (nn::BatchNorm has one "
              "affine switch)");
}

TensorShape BatchNormalizationImpl::compute_output_shape(const TensorShape& in) {
  if (in.size() < 2 || in.size() > 4) shape_error("an input of rank 2, 3 or 4 (channels last)", in);
  if (in.back() <= 0) shape_error("a known number of channels (last dimension)", in);
  if (bn && (rank_ != int(in.size()) || input_shapes()[0].back() != in.back()))
    shape_error("an input like " + shape_str(input_shapes()[0]) + " (the shape it was built for)", in);
  return in;
}

void BatchNormalizationImpl::build(const TensorShape& in) {
  rank_ = static_cast<int>(in.size());
  nn::BatchNormOptions o{.num_features = in.back(),
                         .eps = options.epsilon,
                         .momentum = 1.0 - options.momentum,  // Keras's momentum keeps the old value
                         .affine = options.scale,
                         .track_running_stats = true};
  if (rank_ == 4)
    bn = std::make_shared<nn::BatchNorm2dImpl>(o);
  else
    bn = std::make_shared<nn::BatchNorm1dImpl>(o);
  register_module("bn", bn);
}

Flow BatchNormalizationImpl::call_flow(const std::vector<Flow>& in) {
  const Flow& f = in.at(0);
  NABLA_CHECK(f.t.dim() == rank_, "BatchNormalization '", layer_name(), "': expected a ", rank_,
              "-d input, received shape ", f.t.shape());
  if (rank_ == 4) return {bn->forward(channels_first(f)), true};
  if (rank_ == 3) return {bn->forward(f.t.permute({0, 2, 1})).permute({0, 2, 1}), false};
  return {bn->forward(f.t), false};
}

LayerNormalizationImpl::LayerNormalizationImpl(const LayerNormalizationOptions& o)
    : Layer("LayerNormalization", "layer_normalization", o.name, o.input_shape), options(o) {
  NABLA_CHECK(o.center == o.scale,
              "LayerNormalization: center and scale must be both true or both false (nn::LayerNorm has one "
              "elementwise_affine switch)");
}

TensorShape LayerNormalizationImpl::compute_output_shape(const TensorShape& in) {
  if (in.size() < 2) shape_error("an input of rank >= 2", in);
  if (in.back() <= 0) shape_error("a known last dimension", in);
  if (norm && norm->options.normalized_shape[0] != in.back())
    shape_error("last dimension " + std::to_string(norm->options.normalized_shape[0]), in);
  return in;
}

void LayerNormalizationImpl::build(const TensorShape& in) {
  norm = nn::LayerNorm(in.back(), options.epsilon, options.scale);
  register_module("norm", norm);
}

Tensor LayerNormalizationImpl::call(const Tensor& x) { return norm(x); }

}  // namespace nabla::keras::layers
