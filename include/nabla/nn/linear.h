// Linear, Bilinear and Identity layers. Weights are initialised like PyTorch's:
// kaiming_uniform_(a = sqrt(5)) for the weight, uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias.
//   nabla::nn::Linear fc(784, 64);                       // or fc({.in = 784, .out = 64, .bias = false})
//   auto y = fc(x);                                      // x [N, 784] -> [N, 64]
//   fc->weight;                                          // [64, 784]
#pragma once
#include "nabla/nn/module.h"

namespace nabla::nn {

/// y = x W^T + b with weight [out, in], bias [out].
class LinearImpl : public Cloneable<LinearImpl> {
 public:
  struct Options {
    int64_t in = 0;
    int64_t out = 0;
    bool bias = true;
  };
  LinearImpl(int64_t in, int64_t out, bool bias = true) : LinearImpl(Options{in, out, bias}) {}
  explicit LinearImpl(const Options& options);
  /// Creates and registers the parameters (called by the constructor and by clone()).
  void reset();
  /// Re-draws the parameters with the default initialisation.
  void reset_parameters();
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;

  Options options;
  Tensor weight, bias;
};
NABLA_MODULE(Linear);

/// y_k = x1^T W_k x2 + b_k with weight [out, in1, in2]; called with two inputs: bilinear(x1, x2).
class BilinearImpl : public Cloneable<BilinearImpl> {
 public:
  struct Options {
    int64_t in1 = 0;
    int64_t in2 = 0;
    int64_t out = 0;
    bool bias = true;
  };
  BilinearImpl(int64_t in1, int64_t in2, int64_t out, bool bias = true)
      : BilinearImpl(Options{in1, in2, out, bias}) {}
  explicit BilinearImpl(const Options& options);
  void reset();
  void reset_parameters();
  using Module::forward;
  Tensor forward(const Tensor& x1, const Tensor& x2);
  std::string extra_repr() const override;

  Options options;
  Tensor weight, bias;
};
NABLA_MODULE(Bilinear);

/// Returns its input (a placeholder, e.g. to switch a layer off in a Sequential).
class IdentityImpl : public Cloneable<IdentityImpl> {
 public:
  Tensor forward(Tensor x) override { return x; }
};
NABLA_MODULE(Identity);

}  // namespace nabla::nn
