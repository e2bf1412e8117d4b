// Keras normalization layers over the last (channels) axis: BatchNormalization (nn::BatchNorm1d /
// BatchNorm2d inside) and LayerNormalization (nn::LayerNorm), with Keras's defaults:
// momentum 0.99 (PyTorch's 0.01), epsilon 1e-3.
//   layers::BatchNormalization()         // gamma, beta trainable; moving_mean/variance not
//   layers::LayerNormalization({.epsilon = 1e-6})
// Difference from Keras: the moving variance is updated with the unbiased batch variance
// (PyTorch's rule, which nn::BatchNorm implements); Keras uses the biased one.
#pragma once
#include <string>

#include "nabla/keras/layer.h"
#include "nabla/nn/batchnorm.h"
#include "nabla/nn/normalization.h"

namespace nabla::keras::layers {

struct BatchNormalizationOptions {
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;  // beta
  bool scale = true;   // gamma
  TensorShape input_shape = {};
  std::string name = "";
};
/// Normalises each channel (last axis) of 2-d, 3-d or 4-d inputs.
class BatchNormalizationImpl : public Layer {
 public:
  explicit BatchNormalizationImpl(const BatchNormalizationOptions& options = {});
  void build(const TensorShape& in) override;
  TensorShape compute_output_shape(const TensorShape& in) override;
  Flow call_flow(const std::vector<Flow>& in) override;
  BatchNormalizationOptions options;
  std::shared_ptr<nn::Module> bn;  // BatchNorm1dImpl or BatchNorm2dImpl, created by build()

 private:
  int rank_ = 0;
};
class BatchNormalization : public LayerHolder<BatchNormalizationImpl> {
 public:
  using LayerHolder::LayerHolder;
  BatchNormalization(const BatchNormalizationOptions& options = {})
      : LayerHolder(std::make_shared<BatchNormalizationImpl>(options)) {}
};

struct LayerNormalizationOptions {
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
  TensorShape input_shape = {};
  std::string name = "";
};
/// Normalises each sample over its last axis.
class LayerNormalizationImpl : public Layer {
 public:
  explicit LayerNormalizationImpl(const LayerNormalizationOptions& options = {});
  void build(const TensorShape& in) override;
  TensorShape compute_output_shape(const TensorShape& in) override;
  Tensor call(const Tensor& x) override;
  LayerNormalizationOptions options;
  nn::LayerNorm norm{nullptr};
};
class LayerNormalization : public LayerHolder<LayerNormalizationImpl> {
 public:
  using LayerHolder::LayerHolder;
  LayerNormalization(const LayerNormalizationOptions& options = {})
      : LayerHolder(std::make_shared<LayerNormalizationImpl>(options)) {}
};

}  // namespace nabla::keras::layers
