// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
//   loss.backward();
//   double norm = nabla::nn::utils::clip_grad_norm_(model.parameters(), /*max_norm=*/1.0);
//   optimizer.step();
// Parameters without a gradient are ignored. The gradients are scaled in place.
#pragma once
#include <limits>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::nn::utils {

/// Scales all gradients by min(1, max_norm / (total_norm + 1e-6)), where total_norm is the
/// norm_type-norm of all gradients together (norm_type = infinity for the max-abs norm).
/// Returns total_norm (before clipping). Throws when error_if_nonfinite and the norm is nan/inf.
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

/// Clamps every gradient element into [-clip_value, clip_value] in place.
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);

}  // namespace nabla::nn::utils
