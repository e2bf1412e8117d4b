// Dropout: while training, zeroes each element with probability p (mask from the default
// generator) and scales the survivors by 1/(1-p); the identity after eval().
//   nabla::nn::Dropout drop(0.2);
//   model.eval();                       // Dropout inside model now passes inputs through
#pragma once
#include "nabla/nn/module.h"

namespace nabla::nn {

class DropoutImpl : public Cloneable<DropoutImpl> {
 public:
  struct Options {
    double p = 0.5;
  };
  DropoutImpl() : DropoutImpl(Options{}) {}
  explicit DropoutImpl(double p) : DropoutImpl(Options{p}) {}
  explicit DropoutImpl(const Options& o);
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;
  Options options;
};
NABLA_MODULE(Dropout);

}  // namespace nabla::nn
