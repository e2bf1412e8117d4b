// Internal: the loss functions with the name their errors carry, so nabla::F::mse_loss reports
// "mse_loss: ..." and nn::MSELoss reports "MSELoss: ..." from one implementation.
#pragma once
#include "nabla/nn/functional/loss.h"

namespace nabla::F::detail {

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& opt,
                     const char* who);
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& opt, const char* who);
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& opt, const char* who);
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& opt, const char* who);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& opt,
                      const char* who);
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& opt,
                            const char* who);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& opt, const char* who);
Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& opt, const char* who);

}  // namespace nabla::F::detail
