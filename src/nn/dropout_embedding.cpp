// Dropout and Embedding layers.
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/nn/dropout.h"
#include "nabla/nn/embedding.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"
#include "nabla/ops.h"
#include "nn/repr.h"

namespace nabla::nn {

DropoutImpl::DropoutImpl(const Options& o) : options(o) {
  NABLA_CHECK(o.p >= 0.0 && o.p <= 1.0, "Dropout: p must be in [0, 1], got ", o.p);
}
Tensor DropoutImpl::forward(Tensor x) { return F::dropout(x, options.p, is_training()); }
std::string DropoutImpl::extra_repr() const { return "p=" + repr::py_float(options.p) + ", inplace=False"; }

EmbeddingImpl::EmbeddingImpl(const Options& o) : options(o) {
  NABLA_CHECK(o.num >= 0 && o.dim >= 0, "Embedding: num and dim must be non-negative, got ", o.num, " and ",
              o.dim);
  if (o.padding_idx) {
    int64_t p = *o.padding_idx;
    NABLA_CHECK(p >= -o.num && p < o.num, "Embedding: padding_idx ", p, " is out of range for ", o.num,
                " embeddings");
    options.padding_idx = p < 0 ? p + o.num : p;
  }
  reset();
}
void EmbeddingImpl::reset() {
  weight = register_parameter("weight", empty({options.num, options.dim}));
  reset_parameters();
}
void EmbeddingImpl::reset_parameters() {
  init::normal_(weight);
  if (options.padding_idx) {
    NoGradGuard guard;
    weight.select(0, *options.padding_idx).zero_();
  }
}
Tensor EmbeddingImpl::forward(Tensor indices) {
  NABLA_CHECK(indices.dtype() == kInt64 || indices.dtype() == kInt32,
              "Embedding: expected int64 indices, got ", indices.dtype(), " of shape ", indices.shape());
  Tensor w = weight;
  if (options.padding_idx && GradMode::is_enabled() && weight.requires_grad()) {
    // The padding row takes part in the forward but receives no gradient (as in PyTorch).
    Tensor rows = arange(options.num).view({options.num, 1});
    w = where(rows == scalar_tensor(*options.padding_idx), weight.detach(), weight);
  }
  return F::embedding(indices.dtype() == kInt64 ? indices : indices.to(kInt64), w);
}
std::string EmbeddingImpl::extra_repr() const {
  std::string s = std::to_string(options.num) + ", " + std::to_string(options.dim);
  if (options.padding_idx) s += ", padding_idx=" + std::to_string(*options.padding_idx);
  return s;
}

}  // namespace nabla::nn
