// keras::metrics: stateful metrics accumulated over batches (update_state / result /
// reset_state), by name in compile or as objects.
//   model.compile({.optimizer = "adam", .loss = "binary_crossentropy",
//                  .metrics = {"accuracy", "precision", "recall", "auc"}});
//   metrics::AUC auc;  auc.update_state(y_true, y_prob);  auc.result();
// "accuracy" picks Keras's variant from the shapes on the first batch: binary when the
// prediction's last dim is 1, sparse categorical when the target has a lower rank (or a last dim
// of 1 against several classes), categorical otherwise. Weights (sample or class weights) weight
// each sample, as in Keras.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::keras::metrics {

class Metric {
 public:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  /// Accumulates one batch; sample_weight [N] is optional.
  virtual void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) = 0;
  virtual double result() const = 0;
  virtual void reset_state() = 0;
  /// False when the metric gives the same result on logits as on probabilities (argmax-based),
  /// so fit can skip computing probabilities for it.
  virtual bool needs_probabilities() const { return true; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

/// A weighted mean of per-sample values (the base of the accuracy, mse and mae metrics).
class MeanMetric : public Metric {
 public:
  using Metric::Metric;
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override { return count_ > 0 ? total_ / count_ : 0.0; }
  void reset_state() override { total_ = count_ = 0; }
  /// Per-sample values [N] for one batch.
  virtual Tensor values(const Tensor& y_true, const Tensor& y_pred) const = 0;

 private:
  double total_ = 0, count_ = 0;
};

class CategoricalAccuracy : public MeanMetric {
 public:
  explicit CategoricalAccuracy(std::string name = "categorical_accuracy") : MeanMetric(std::move(name)) {}
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
  bool needs_probabilities() const override { return false; }
};
class SparseCategoricalAccuracy : public MeanMetric {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy")
      : MeanMetric(std::move(name)) {}
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
  bool needs_probabilities() const override { return false; }
};
class BinaryAccuracy : public MeanMetric {
 public:
  explicit BinaryAccuracy(std::string name = "binary_accuracy", double threshold = 0.5)
      : MeanMetric(std::move(name)), threshold(threshold) {}
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
  double threshold;
};
/// "accuracy": chooses one of the three above on the first batch (see the header comment).
class Accuracy : public Metric {
 public:
  explicit Accuracy(std::string name = "accuracy") : Metric(std::move(name)) {}
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override { return impl_ ? impl_->result() : 0.0; }
  void reset_state() override {
    if (impl_) impl_->reset_state();
  }
  /// Binary accuracy thresholds probabilities; the argmax variants work on logits too.
  bool needs_probabilities() const override { return !impl_ || impl_->needs_probabilities(); }
  /// The chosen variant's class name ("" before the first batch).
  std::string resolved() const { return resolved_; }

 private:
  std::unique_ptr<MeanMetric> impl_;
  std::string resolved_;
};
class MeanSquaredError : public MeanMetric {
 public:
  explicit MeanSquaredError(std::string name = "mean_squared_error") : MeanMetric(std::move(name)) {}
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};
class MeanAbsoluteError : public MeanMetric {
 public:
  explicit MeanAbsoluteError(std::string name = "mean_absolute_error") : MeanMetric(std::move(name)) {}
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

/// Counts of true/false positives/negatives over every element, predictions > threshold.
class Precision : public Metric {
 public:
  explicit Precision(std::string name = "precision", double threshold = 0.5)
      : Metric(std::move(name)), threshold(threshold) {}
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override { return tp_ + fp_ > 0 ? tp_ / (tp_ + fp_) : 0.0; }
  void reset_state() override { tp_ = fp_ = 0; }
  double threshold;

 private:
  double tp_ = 0, fp_ = 0;
};
class Recall : public Metric {
 public:
  explicit Recall(std::string name = "recall", double threshold = 0.5)
      : Metric(std::move(name)), threshold(threshold) {}
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override { return tp_ + fn_ > 0 ? tp_ / (tp_ + fn_) : 0.0; }
  void reset_state() override { tp_ = fn_ = 0; }
  double threshold;

 private:
  double tp_ = 0, fn_ = 0;
};

/// ROC AUC as Keras computes it: confusion counts at num_thresholds evenly spaced thresholds
/// (0 - 1e-7, 1/(n-1), ..., 1 + 1e-7), then a trapezoidal sum over the ROC curve.
class AUC : public Metric {
 public:
  explicit AUC(std::string name = "auc", int num_thresholds = 200);
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override;
  void reset_state() override;

 private:
  std::vector<double> thresholds_, tp_, fp_, tn_, fn_;
};

/// By name: "accuracy" / "acc", "categorical_accuracy", "sparse_categorical_accuracy",
/// "binary_accuracy", "precision", "recall", "auc", "mse" / "mean_squared_error", "mae" /
/// "mean_absolute_error". The metric is named as given (its key in History and the logs).
/// `display_name` (default: `name`) is the key in the logs.
std::shared_ptr<Metric> get(const std::string& name, const std::string& display_name = "");

}  // namespace nabla::keras::metrics
