// Dropout and Embedding layers.
#include <algorithm>
#include <cmath>
#include <vector>

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
  NABLA_CHECK(!o.max_norm || *o.max_norm >= 0, "Embedding: max_norm must be non-negative, got ", *o.max_norm);
  NABLA_CHECK(o.norm_type > 0, "Embedding: norm_type must be positive, got ", o.norm_type);
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
  if (options.max_norm) F::embedding_renorm_(weight, indices, *options.max_norm, options.norm_type);
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
  if (options.max_norm) s += ", max_norm=" + repr::py_float(*options.max_norm);
  if (options.norm_type != 2.0) s += ", norm_type=" + repr::py_float(options.norm_type);
  return s;
}

}  // namespace nabla::nn

namespace nabla::F {

void embedding_renorm_(const Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
  NABLA_CHECK(weight.defined() && weight.dim() == 2 && weight.is_contiguous() &&
                  (weight.dtype() == kFloat32 || weight.dtype() == kFloat64),
              "embedding_renorm_: expected a contiguous float32/float64 weight [num, dim], got ",
              weight.defined() ? weight.shape() : Shape{});
  NABLA_CHECK(indices.dtype() == kInt64 || indices.dtype() == kInt32,
              "embedding_renorm_: expected int64 indices, got ", indices.dtype());
  NABLA_CHECK(norm_type > 0, "embedding_renorm_: norm_type must be positive, got ", norm_type);
  const int64_t num = weight.size(0), dim = weight.size(1);
  std::vector<int64_t> rows = indices.to(kInt64).contiguous().flatten().to_vector<int64_t>();
  for (int64_t r : rows)
    NABLA_CHECK(r >= 0 && r < num, "embedding_renorm_: index ", r, " is out of range for ", num,
                " embeddings");
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  visit_dtype(weight.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      T* w = static_cast<T*>(weight.raw_data());
      for (int64_t r : rows) {
        T* row = w + r * dim;
        double norm = 0;
        if (std::isinf(norm_type)) {
          for (int64_t j = 0; j < dim; ++j) norm = std::max(norm, std::abs(double(row[j])));
        } else {
          for (int64_t j = 0; j < dim; ++j) norm += std::pow(std::abs(double(row[j])), norm_type);
          norm = std::pow(norm, 1.0 / norm_type);
        }
        if (norm > max_norm) {
          const T scale = static_cast<T>(max_norm / (norm + 1e-7));
          for (int64_t j = 0; j < dim; ++j) row[j] *= scale;
        }
      }
    }
  });
}

}  // namespace nabla::F
