// Internal: the classification losses with every PyTorch option, parameterised by the name that
// errors carry ("cross_entropy", "CrossEntropyLoss", ...). nabla::cross_entropy / nll_loss
// (ops.h), nabla::F and the nn loss modules all call these, so there is one implementation.
#pragma once
#include "nabla/tensor.h"

namespace nabla::detail {

enum class Reduction { kNone, kMean, kSum, kBatchMean };

/// Parses "none" / "mean" / "sum" (and "batchmean" when allowed); anything else throws an error
/// naming `who` and listing the valid strings.
Reduction parse_reduction(const char* reduction, const char* who, bool allow_batchmean = false);

/// Reduces an elementwise loss: none -> as is, mean -> mean of all, sum, batchmean -> sum / size(0).
Tensor reduce_loss(const Tensor& loss, Reduction reduction);

/// nll_loss over [C], [N, C] or [N, C, d...] log-probabilities with int64 class indices;
/// `weight` (optional, [C]) rescales each class and the mean divides by the sum of target weights.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction, int64_t ignore_index,
                const Tensor& weight, const char* who);

/// log_softmax + nll_loss for class indices, or -sum(target * log_softmax) for class probabilities
/// (a floating target of the input's shape); label_smoothing mixes in the uniform distribution.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, int64_t ignore_index,
                     const Tensor& weight, double label_smoothing, const char* who);

}  // namespace nabla::detail
