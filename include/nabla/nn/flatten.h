// Flatten: merges dims start_dim..end_dim (default: everything but the batch dim).
//   nabla::nn::Flatten flat;                 // [N, C, H, W] -> [N, C*H*W]
#pragma once
#include "nabla/nn/module.h"

namespace nabla::nn {

class FlattenImpl : public Cloneable<FlattenImpl> {
 public:
  struct Options {
    int64_t start_dim = 1;
    int64_t end_dim = -1;
  };
  FlattenImpl() = default;
  FlattenImpl(int64_t start_dim, int64_t end_dim = -1) : options{start_dim, end_dim} {}
  explicit FlattenImpl(const Options& o) : options(o) {}
  Tensor forward(Tensor x) override { return x.flatten(options.start_dim, options.end_dim); }
  std::string extra_repr() const override {
    return "start_dim=" + std::to_string(options.start_dim) + ", end_dim=" + std::to_string(options.end_dim);
  }
  Options options;
};
NABLA_MODULE(Flatten);

}  // namespace nabla::nn
