// Embedding: a lookup table [num, dim]; int64 indices of any shape pick rows (output shape
// indices.shape + [dim]). Initialised from N(0, 1) as in PyTorch; a padding_idx row starts at zero
// and gets no gradient.
//   nabla::nn::Embedding emb(10000, 128);
//   auto v = emb(tokens);                      // tokens [B, T] int64 -> [B, T, 128]
//   nabla::nn::Embedding capped({.num = 100, .dim = 8, .max_norm = 1.0});   // rows renormed on use
#pragma once
#include <optional>

#include "nabla/nn/module.h"

namespace nabla::nn {

class EmbeddingImpl : public Cloneable<EmbeddingImpl> {
 public:
  struct Options {
    int64_t num = 0;  // num_embeddings
    int64_t dim = 0;  // embedding_dim
    std::optional<int64_t> padding_idx = std::nullopt;
    /// Rows looked up with a norm above max_norm are rescaled in place to max_norm first
    /// (PyTorch's max_norm; the weight changes, without autograd).
    std::optional<double> max_norm = std::nullopt;
    double norm_type = 2.0;  // p of the norm for max_norm (inf allowed)
  };
  EmbeddingImpl(int64_t num, int64_t dim) : EmbeddingImpl(Options{num, dim}) {}
  explicit EmbeddingImpl(const Options& o);
  void reset();
  void reset_parameters();
  Tensor forward(Tensor indices) override;
  std::string extra_repr() const override;
  Options options;
  Tensor weight;
};
NABLA_MODULE(Embedding);

}  // namespace nabla::nn
