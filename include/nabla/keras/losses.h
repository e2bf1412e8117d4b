// keras::losses: Keras's losses as objects (or by name in compile). Each computes a per-sample
// loss [N] (the mean over the non-batch dims); compile()/fit average it over the batch, times
// sample or class weights (Keras's "sum_over_batch_size").
//   model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
//   model.compile({.optimizer = "adam", .loss = losses::CategoricalCrossentropy({.from_logits = true})});
// Probabilities are clipped to [1e-7, 1 - 1e-7] as in Keras. When the model ends in softmax
// (sigmoid) and the loss is categorical (binary) cross-entropy, fit computes the loss from the
// logits before that activation (log-softmax / BCE-with-logits), so it never takes log(0).
#pragma once
#include <memory>
#include <string>

#include "nabla/tensor.h"

namespace nabla::keras::losses {

class Loss {
 public:
  Loss(std::string name, bool from_logits) : name_(std::move(name)), from_logits_(from_logits) {}
  virtual ~Loss() = default;
  /// Per-sample losses [N]; `logits` says y_pred holds logits rather than probabilities.
  virtual Tensor per_sample(const Tensor& y_true, const Tensor& y_pred, bool logits) const = 0;
  /// The mean over the batch of per_sample (losses with a fused mean override it).
  virtual Tensor mean(const Tensor& y_true, const Tensor& y_pred, bool logits) const {
    return per_sample(y_true, y_pred, logits).mean();
  }
  /// The mean loss over the batch (Keras's loss(y_true, y_pred)).
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const {
    return mean(y_true, y_pred, from_logits_);
  }
  /// The output activation this loss can absorb ("softmax", "sigmoid") or "".
  virtual std::string fusable_activation() const { return ""; }
  const std::string& name() const { return name_; }
  bool from_logits() const { return from_logits_; }

 private:
  std::string name_;
  bool from_logits_;
};

struct CrossentropyOptions {
  bool from_logits = false;
  double label_smoothing = 0;
};

/// One-hot (or probability) targets [N, C].
class CategoricalCrossentropy : public Loss {
 public:
  explicit CategoricalCrossentropy(const CrossentropyOptions& o = {})
      : Loss("categorical_crossentropy", o.from_logits), label_smoothing(o.label_smoothing) {}
  Tensor per_sample(const Tensor& y_true, const Tensor& y_pred, bool logits) const override;
  Tensor mean(const Tensor& y_true, const Tensor& y_pred, bool logits) const override;
  std::string fusable_activation() const override { return "softmax"; }
  double label_smoothing;
};

/// Integer class targets [N] (or [N, 1]).
class SparseCategoricalCrossentropy : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(const CrossentropyOptions& o = {})
      : Loss("sparse_categorical_crossentropy", o.from_logits) {}
  Tensor per_sample(const Tensor& y_true, const Tensor& y_pred, bool logits) const override;
  /// From logits: one fused cross_entropy with the mean reduction (what nn::CrossEntropyLoss runs).
  Tensor mean(const Tensor& y_true, const Tensor& y_pred, bool logits) const override;
  std::string fusable_activation() const override { return "softmax"; }
};

/// 0/1 targets, the prediction's shape (a [N] target against a [N, 1] output is accepted).
class BinaryCrossentropy : public Loss {
 public:
  explicit BinaryCrossentropy(const CrossentropyOptions& o = {})
      : Loss("binary_crossentropy", o.from_logits), label_smoothing(o.label_smoothing) {}
  Tensor per_sample(const Tensor& y_true, const Tensor& y_pred, bool logits) const override;
  std::string fusable_activation() const override { return "sigmoid"; }
  double label_smoothing;
};

class MeanSquaredError : public Loss {
 public:
  MeanSquaredError() : Loss("mean_squared_error", false) {}
  Tensor per_sample(const Tensor& y_true, const Tensor& y_pred, bool logits) const override;
};

class MeanAbsoluteError : public Loss {
 public:
  MeanAbsoluteError() : Loss("mean_absolute_error", false) {}
  Tensor per_sample(const Tensor& y_true, const Tensor& y_pred, bool logits) const override;
};

/// By name: "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
/// "mse" / "mean_squared_error", "mae" / "mean_absolute_error".
std::shared_ptr<Loss> get(const std::string& name);

/// Internal: a target shaped like y_pred ([N] against [N, 1] gains the trailing 1), in its dtype.
Tensor align_target(const Tensor& y_true, const Tensor& y_pred, const char* who);

}  // namespace nabla::keras::losses
