// LayerNorm and GroupNorm layers (PyTorch semantics and printing). Batch norm: nn/batchnorm.h.
//   nabla::nn::LayerNorm ln(512);                       // normalises the last dim
//   nabla::nn::LayerNorm ln2(nabla::Shape{16, 16}, 1e-6); // the last two dims
//   nabla::nn::GroupNorm gn(8, 64);                     // 8 groups of 8 channels
#pragma once
#include "nabla/nn/module.h"
#include "nabla/shape.h"

namespace nabla::nn {

/// Normalises over the trailing normalized_shape dims, then weight * x + bias (elementwise).
class LayerNormImpl : public Cloneable<LayerNormImpl> {
 public:
  struct Options {
    Shape normalized_shape;
    double eps = 1e-5;
    bool elementwise_affine = true;  // learnable weight (ones) and bias (zeros) of normalized_shape
  };
  explicit LayerNormImpl(int64_t normalized_size, double eps = 1e-5, bool elementwise_affine = true)
      : LayerNormImpl(Options{{normalized_size}, eps, elementwise_affine}) {}
  explicit LayerNormImpl(const Shape& normalized_shape, double eps = 1e-5, bool elementwise_affine = true)
      : LayerNormImpl(Options{normalized_shape, eps, elementwise_affine}) {}
  explicit LayerNormImpl(const Options& options);
  /// Creates and registers the parameters (called by the constructor and by clone()).
  void reset();
  void reset_parameters();
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;

  Options options;
  Tensor weight, bias;
};
NABLA_MODULE(LayerNorm);

/// Normalises each of num_groups channel groups of each sample of [N, C, *], then a per-channel affine.
class GroupNormImpl : public Cloneable<GroupNormImpl> {
 public:
  struct Options {
    int64_t num_groups = 0;
    int64_t num_channels = 0;
    double eps = 1e-5;
    bool affine = true;
  };
  GroupNormImpl(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true)
      : GroupNormImpl(Options{num_groups, num_channels, eps, affine}) {}
  explicit GroupNormImpl(const Options& options);
  void reset();
  void reset_parameters();
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;

  Options options;
  Tensor weight, bias;
};
NABLA_MODULE(GroupNorm);

}  // namespace nabla::nn
