// Activation layers: ReLU, LeakyReLU, GELU, SiLU, Sigmoid, Tanh, Softmax(dim), LogSoftmax(dim).
// Each is a stateless module over the nabla::F function of the same name, for use in Sequential.
//   nabla::nn::Sequential mlp{nabla::nn::Linear(784, 64), nabla::nn::ReLU(), nabla::nn::Linear(64, 10),
//                             nabla::nn::LogSoftmax(1)};
#pragma once
#include <string>

#include "nabla/nn/module.h"

namespace nabla::nn {

class ReLUImpl : public Cloneable<ReLUImpl> {
 public:
  Tensor forward(Tensor x) override;
};
NABLA_MODULE(ReLU);

class LeakyReLUImpl : public Cloneable<LeakyReLUImpl> {
 public:
  explicit LeakyReLUImpl(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;
  double negative_slope;
};
NABLA_MODULE(LeakyReLU);

class GELUImpl : public Cloneable<GELUImpl> {
 public:
  /// approximate: "none" (erf form) or "tanh".
  explicit GELUImpl(std::string approximate = "none");
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;
  std::string approximate;
};
NABLA_MODULE(GELU);

class SiLUImpl : public Cloneable<SiLUImpl> {
 public:
  Tensor forward(Tensor x) override;
};
NABLA_MODULE(SiLU);

class SigmoidImpl : public Cloneable<SigmoidImpl> {
 public:
  Tensor forward(Tensor x) override;
};
NABLA_MODULE(Sigmoid);

class TanhImpl : public Cloneable<TanhImpl> {
 public:
  Tensor forward(Tensor x) override;
};
NABLA_MODULE(Tanh);

class SoftmaxImpl : public Cloneable<SoftmaxImpl> {
 public:
  explicit SoftmaxImpl(int64_t dim) : dim(dim) {}
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override { return "dim=" + std::to_string(dim); }
  int64_t dim;
};
NABLA_MODULE(Softmax);

class LogSoftmaxImpl : public Cloneable<LogSoftmaxImpl> {
 public:
  explicit LogSoftmaxImpl(int64_t dim) : dim(dim) {}
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override { return "dim=" + std::to_string(dim); }
  int64_t dim;
};
NABLA_MODULE(LogSoftmax);

}  // namespace nabla::nn
