// Keras metrics: weighted running means, confusion counts and Keras's thresholded ROC AUC.
#include "nabla/keras/metrics.h"

#include <algorithm>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/keras/losses.h"
#include "nabla/ops.h"

namespace nabla::keras::metrics {
namespace {
Tensor per_sample_mean(const Tensor& v) {
  if (v.dim() <= 1) return v;  // already one value per sample (bools stay bools: summed exactly)
  Tensor t = v.is_floating_point() ? v : v.to(kFloat32);
  Shape dims;
  for (int d = 1; d < t.dim(); ++d) dims.push_back(d);
  return t.mean(dims);
}
/// Per-element weights matching `like` ([N] sample weights broadcast over the other dims).
std::vector<double> element_weights(const Tensor& sample_weight, const Tensor& like) {
  const int64_t n = like.numel();
  if (!sample_weight.defined()) return std::vector<double>(n, 1.0);
  auto sw = sample_weight.to_vector<double>();
  NABLA_CHECK(like.dim() >= 1 && int64_t(sw.size()) == like.size(0), "metrics: expected sample_weight [",
              like.dim() ? like.size(0) : 0, "], received ", sample_weight.shape());
  std::vector<double> w(n);
  const int64_t per = sw.empty() ? 0 : n / int64_t(sw.size());
  for (int64_t i = 0; i < n; ++i) w[i] = sw[i / per];
  return w;
}
}  // namespace

void MeanMetric::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  NoGradGuard no_grad;
  Tensor v = values(y_true, y_pred.detach());
  if (sample_weight.defined()) {
    Tensor w = sample_weight.to(kFloat64).reshape({-1});
    total_ += (v.to(kFloat64) * w).sum().item<double>();
    count_ += w.sum().item<double>();
  } else {
    // Summed in the values' own dtype (an accuracy's bools sum exactly as int64): one op.
    total_ += v.sum().item<double>();
    count_ += static_cast<double>(v.numel());
  }
}

Tensor CategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  NABLA_CHECK(y_true.shape() == y_pred.shape(), name(),
              ": expected one-hot targets of the prediction's shape ", y_pred.shape(), ", received ",
              y_true.shape());
  return per_sample_mean(eq(y_pred.argmax(-1), y_true.argmax(-1)));
}

Tensor SparseCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor y = y_true;
  if (y.dim() == y_pred.dim() && y.size(-1) == 1) y = y.squeeze(-1);
  NABLA_CHECK(y.dim() + 1 == y_pred.dim(), name(), ": expected integer targets of shape ", y_pred.shape(),
              " without the last dim, received ", y_true.shape());
  if (y.dtype() != kInt64) y = y.to(kInt64);
  return per_sample_mean(eq(y_pred.argmax(-1), y));
}

Tensor BinaryAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor y = losses::align_target(y_true, y_pred, name().c_str());
  Tensor thr = full({}, threshold, y_pred.dtype());
  return per_sample_mean(eq(gt(y_pred, thr), gt(y, full({}, 0.5, y.dtype()))));
}

void Accuracy::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  if (!impl_) {
    const int64_t p_last = y_pred.dim() ? y_pred.size(-1) : 1;
    const int64_t t_last = y_true.dim() ? y_true.size(-1) : 1;
    if (p_last == 1) {
      impl_ = std::make_unique<BinaryAccuracy>(name()), resolved_ = "BinaryAccuracy";
    } else if (y_true.dim() < y_pred.dim() || (t_last == 1 && p_last > 1)) {
      impl_ = std::make_unique<SparseCategoricalAccuracy>(name()), resolved_ = "SparseCategoricalAccuracy";
    } else {
      impl_ = std::make_unique<CategoricalAccuracy>(name()), resolved_ = "CategoricalAccuracy";
    }
  }
  impl_->update_state(y_true, y_pred, sample_weight);
}

Tensor MeanSquaredError::values(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor d = y_pred - losses::align_target(y_true, y_pred, name().c_str());
  return per_sample_mean(d * d);
}

Tensor MeanAbsoluteError::values(const Tensor& y_true, const Tensor& y_pred) const {
  return per_sample_mean((y_pred - losses::align_target(y_true, y_pred, name().c_str())).abs());
}

void Precision::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  NoGradGuard no_grad;
  auto t = losses::align_target(y_true, y_pred, name().c_str()).to_vector<double>();
  auto p = y_pred.to_vector<double>();
  auto w = element_weights(sample_weight, y_pred);
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= threshold) continue;
    (t[i] > 0.5 ? tp_ : fp_) += w[i];
  }
}

void Recall::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  NoGradGuard no_grad;
  auto t = losses::align_target(y_true, y_pred, name().c_str()).to_vector<double>();
  auto p = y_pred.to_vector<double>();
  auto w = element_weights(sample_weight, y_pred);
  for (size_t i = 0; i < p.size(); ++i) {
    if (t[i] <= 0.5) continue;
    (p[i] > threshold ? tp_ : fn_) += w[i];
  }
}

AUC::AUC(std::string name, int num_thresholds) : Metric(std::move(name)) {
  NABLA_CHECK(num_thresholds > 1, "AUC: num_thresholds must be > 1, got ", num_thresholds);
  constexpr double kEps = 1e-7;
  thresholds_.resize(num_thresholds);
  for (int i = 0; i < num_thresholds; ++i) thresholds_[i] = double(i) / double(num_thresholds - 1);
  thresholds_.front() = -kEps;
  thresholds_.back() = 1.0 + kEps;
  reset_state();
}

void AUC::reset_state() {
  const size_t n = thresholds_.size();
  tp_.assign(n, 0), fp_.assign(n, 0), tn_.assign(n, 0), fn_.assign(n, 0);
}

void AUC::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  NoGradGuard no_grad;
  auto t = losses::align_target(y_true, y_pred, name().c_str()).to_vector<double>();
  auto p = y_pred.to_vector<double>();
  auto w = element_weights(sample_weight, y_pred);
  // thresholds_ is sorted: the predictions above threshold k are those with p > thresholds_[k].
  std::vector<double> pos_at(thresholds_.size() + 1, 0), neg_at(thresholds_.size() + 1, 0);
  double pos = 0, neg = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    // Number of thresholds strictly below p: the prediction counts as positive for those.
    size_t k = std::lower_bound(thresholds_.begin(), thresholds_.end(), p[i]) - thresholds_.begin();
    if (t[i] > 0.5)
      pos_at[k] += w[i], pos += w[i];
    else
      neg_at[k] += w[i], neg += w[i];
  }
  // Positives at threshold j: predictions with k > j (suffix sums).
  double pos_above = 0, neg_above = 0;
  for (size_t j = thresholds_.size(); j-- > 0;) {
    pos_above += pos_at[j + 1];
    neg_above += neg_at[j + 1];
    tp_[j] += pos_above, fp_[j] += neg_above;
    fn_[j] += pos - pos_above, tn_[j] += neg - neg_above;
  }
}

double AUC::result() const {
  // Keras: ROC with trapezoidal (midpoint) heights between consecutive thresholds.
  const size_t n = thresholds_.size();
  double auc = 0;
  auto tpr = [&](size_t i) { return tp_[i] + fn_[i] > 0 ? tp_[i] / (tp_[i] + fn_[i]) : 0.0; };
  auto fpr = [&](size_t i) { return fp_[i] + tn_[i] > 0 ? fp_[i] / (fp_[i] + tn_[i]) : 0.0; };
  for (size_t i = 0; i + 1 < n; ++i) auc += (fpr(i) - fpr(i + 1)) * (tpr(i) + tpr(i + 1)) / 2;
  return auc;
}

std::shared_ptr<Metric> get(const std::string& name, const std::string& display_name) {
  const std::string shown = display_name.empty() ? name : display_name;
  if (name == "accuracy" || name == "acc") return std::make_shared<Accuracy>(shown);
  if (name == "categorical_accuracy") return std::make_shared<CategoricalAccuracy>(shown);
  if (name == "sparse_categorical_accuracy") return std::make_shared<SparseCategoricalAccuracy>(shown);
  if (name == "binary_accuracy") return std::make_shared<BinaryAccuracy>(shown);
  if (name == "precision") return std::make_shared<Precision>(shown);
  if (name == "recall") return std::make_shared<Recall>(shown);
  if (name == "auc") return std::make_shared<AUC>(shown);
  if (name == "mse" || name == "mean_squared_error") return std::make_shared<MeanSquaredError>(shown);
  if (name == "mae" || name == "mean_absolute_error") return std::make_shared<MeanAbsoluteError>(shown);
  nabla::detail::throw_error("metrics: unknown metric '", name,
                             "' (expected accuracy, categorical_accuracy, sparse_categorical_accuracy, "
                             "binary_accuracy, precision, recall, auc, mse or mae)");
}

}  // namespace nabla::keras::metrics
