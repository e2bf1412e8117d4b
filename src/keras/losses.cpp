// Keras losses with Keras's formulas (clipping at 1e-7, mean over the last axis per sample).
#include "nabla/keras/losses.h"

#include "nabla/creation.h"
#include "nabla/keras/layer.h"
#include "nabla/nn/functional/loss.h"
#include "nabla/ops.h"

namespace nabla::keras::losses {
namespace {
constexpr double kEpsilon = 1e-7;  // keras.config.epsilon()

/// Mean over every dim but the batch dim: [N, ...] -> [N] (a 1-d input is already per sample).
Tensor per_sample_mean(const Tensor& t) {
  if (t.dim() <= 1) return t;
  Shape dims;
  for (int d = 1; d < t.dim(); ++d) dims.push_back(d);
  return t.mean(dims);
}

void check_same(const Tensor& y_true, const Tensor& y_pred, const char* who) {
  NABLA_CHECK(y_true.shape() == y_pred.shape(), who, ": expected y_true of the prediction's shape ",
              y_pred.shape(), ", received ", y_true.shape());
}
}  // namespace

Tensor align_target(const Tensor& y_true, const Tensor& y_pred, const char* who) {
  Tensor y = y_true;
  if (y.dim() + 1 == y_pred.dim() && y_pred.size(-1) == 1) y = y.unsqueeze(-1);
  check_same(y, y_pred, who);
  return y.dtype() == y_pred.dtype() ? y : y.to(y_pred.dtype());
}

Tensor CategoricalCrossentropy::per_sample(const Tensor& y_true, const Tensor& y_pred, bool logits) const {
  Tensor y = align_target(y_true, y_pred, "categorical_crossentropy");
  NABLA_CHECK(y_pred.dim() >= 1, "categorical_crossentropy: expected predictions [N, C], received ",
              y_pred.shape());
  if (label_smoothing > 0) y = y * (1.0 - label_smoothing) + label_smoothing / double(y_pred.size(-1));
  if (logits) {
    if (y_pred.dim() == 2) return nabla::cross_entropy(y_pred, y, "none");  // fused log-softmax
    return per_sample_mean(-(y * nabla::log_softmax(y_pred, -1)).sum({-1}));
  }
  Tensor p = y_pred / y_pred.sum({-1}, true);
  p = p.clamp(Scalar(kEpsilon), Scalar(1.0 - kEpsilon));
  return per_sample_mean(-(y * p.log()).sum({-1}));
}

Tensor CategoricalCrossentropy::mean(const Tensor& y_true, const Tensor& y_pred, bool logits) const {
  if (logits && label_smoothing == 0 && y_pred.dim() == 2 && y_true.shape() == y_pred.shape())
    return nabla::cross_entropy(y_pred,
                                y_true.dtype() == y_pred.dtype() ? y_true : y_true.to(y_pred.dtype()));
  return per_sample(y_true, y_pred, logits).mean();
}

/// Integer targets [N] (a trailing 1 dropped, floats cast), checked against predictions [N, C].
static Tensor sparse_targets(const Tensor& y_true, const Tensor& y_pred) {
  Tensor y = y_true;
  if (y.dim() == y_pred.dim() && y.size(-1) == 1) y = y.squeeze(-1);
  NABLA_CHECK(
      y_pred.dim() == 2 && y.dim() == 1 && y.size(0) == y_pred.size(0),
      "sparse_categorical_crossentropy: expected predictions [N, C] and integer targets [N], received ",
      y_pred.shape(), " and ", y_true.shape());
  return y.dtype() == kInt64 ? y : y.to(kInt64);
}

Tensor SparseCategoricalCrossentropy::mean(const Tensor& y_true, const Tensor& y_pred, bool logits) const {
  if (logits) return nabla::cross_entropy(y_pred, sparse_targets(y_true, y_pred));
  return per_sample(y_true, y_pred, logits).mean();
}

Tensor SparseCategoricalCrossentropy::per_sample(const Tensor& y_true, const Tensor& y_pred,
                                                 bool logits) const {
  Tensor y = sparse_targets(y_true, y_pred);
  if (logits) return nabla::cross_entropy(y_pred, y, "none");
  Tensor p = y_pred / y_pred.sum({-1}, true);
  return nabla::nll_loss(p.clamp(Scalar(kEpsilon), Scalar(1.0 - kEpsilon)).log(), y, "none");
}

Tensor BinaryCrossentropy::per_sample(const Tensor& y_true, const Tensor& y_pred, bool logits) const {
  Tensor y = align_target(y_true, y_pred, "binary_crossentropy");
  if (label_smoothing > 0) y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing;
  if (logits) return per_sample_mean(F::binary_cross_entropy_with_logits(y_pred, y, {.reduction = "none"}));
  Tensor p = y_pred.clamp(Scalar(kEpsilon), Scalar(1.0 - kEpsilon));
  return per_sample_mean(-(y * p.log() + (1.0 - y) * (1.0 - p).log()));
}

Tensor MeanSquaredError::per_sample(const Tensor& y_true, const Tensor& y_pred, bool) const {
  Tensor y = align_target(y_true, y_pred, "mean_squared_error");
  Tensor d = y_pred - y;
  return per_sample_mean(d * d);
}

Tensor MeanAbsoluteError::per_sample(const Tensor& y_true, const Tensor& y_pred, bool) const {
  Tensor y = align_target(y_true, y_pred, "mean_absolute_error");
  return per_sample_mean((y_pred - y).abs());
}

std::shared_ptr<Loss> get(const std::string& name) {
  if (name == "categorical_crossentropy") return std::make_shared<CategoricalCrossentropy>();
  if (name == "sparse_categorical_crossentropy") return std::make_shared<SparseCategoricalCrossentropy>();
  if (name == "binary_crossentropy") return std::make_shared<BinaryCrossentropy>();
  if (name == "mse" || name == "mean_squared_error") return std::make_shared<MeanSquaredError>();
  if (name == "mae" || name == "mean_absolute_error") return std::make_shared<MeanAbsoluteError>();
  nabla::detail::throw_error("losses: unknown loss '", name,
                             "' (expected categorical_crossentropy, sparse_categorical_crossentropy, "
                             "binary_crossentropy, mse / mean_squared_error or mae / mean_absolute_error)");
}

}  // namespace nabla::keras::losses
