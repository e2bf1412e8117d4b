// nabla::F losses with PyTorch's semantics: reduction "none" | "mean" | "sum" everywhere (plus
// "batchmean" for kl_div); a bad reduction string is a nabla::Error listing the valid ones.
// Options are aggregates, so call sites read like PyTorch keywords:
//   auto loss = nabla::F::cross_entropy(logits, labels, {.label_smoothing = 0.1});
//   auto l2 = nabla::F::mse_loss(pred, target, {.reduction = "sum"});
//   auto b = nabla::F::binary_cross_entropy_with_logits(z, y, {.pos_weight = pw});
// The elementwise losses (mse, l1, smooth_l1, bce, bce_with_logits, kl_div) require input and
// target of the same shape: PyTorch only warns when they broadcast, which is nearly always a bug
// ([N, 1] against [N] silently gives an [N, N] loss), so nabla refuses it.
#pragma once
#include <string>

#include "nabla/tensor.h"

namespace nabla::F {

struct CrossEntropyLossOptions {
  Tensor weight{};              // per-class weights [C] (optional)
  int64_t ignore_index = -100;  // targets equal to this count neither in the sum nor in the mean
  std::string reduction = "mean";
  double label_smoothing = 0.0;
};
/// Softmax cross-entropy of logits [N, C] ([C], [N, C, d...]) against class indices [N] (int64)
/// or class probabilities (floating, the logits' shape). With weight, "mean" divides by the sum
/// of the counted targets' weights (class indices) or by N (probabilities), like PyTorch.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& opt = {});

struct NLLLossOptions {
  Tensor weight{};
  int64_t ignore_index = -100;
  std::string reduction = "mean";
};
/// Negative log-likelihood of log-probabilities [N, C] ([C], [N, C, d...]) at class indices.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& opt = {});

struct MSELossOptions {
  std::string reduction = "mean";
};
/// (input - target)^2.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& opt = {});

struct L1LossOptions {
  std::string reduction = "mean";
};
/// |input - target|.
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& opt = {});

struct SmoothL1LossOptions {
  std::string reduction = "mean";
  double beta = 1.0;  // >= 0; 0 gives l1_loss
};
/// 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& opt = {});

struct BCELossOptions {
  Tensor weight{};  // broadcast against the input (optional)
  std::string reduction = "mean";
};
/// -w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]; each log is clamped to >= -100
/// like PyTorch, so x = 0 or 1 gives a finite loss.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& opt = {});

struct BCEWithLogitsLossOptions {
  Tensor weight{};  // broadcast against the input (optional)
  std::string reduction = "mean";
  Tensor pos_weight{};  // weight of the positive term, broadcast along the last dim (optional)
};
/// sigmoid + binary_cross_entropy in one numerically stable formula:
/// (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& opt = {});

struct KLDivLossOptions {
  std::string reduction = "mean";  // "batchmean" gives the true KL divergence per sample
  bool log_target = false;         // target given as log-probabilities
};
/// Pointwise KL divergence of log-probabilities `input` from `target`: t (log t - input), with
/// 0 log 0 = 0 (or exp(t) (t - input) when log_target).
Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& opt = {});

}  // namespace nabla::F
