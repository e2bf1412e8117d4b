// nabla::F losses. Classification losses forward to the core implementation
// (src/ops/reduce/losses.cpp); the regression and binary losses are composites of core ops, so
// autograd supplies their gradients. Formulas follow PyTorch 1.13.
#include "graph/trace.h"
#include "nabla/nn/functional/loss.h"

#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "nn/functional/loss_impl.h"
#include "ops/reduce/losses.h"

namespace nabla::F {
namespace detail {
namespace {

using nabla::detail::Reduction;

Reduction reduction_of(const std::string& r, const char* who, bool allow_batchmean = false) {
  return nabla::detail::parse_reduction(r.c_str(), who, allow_batchmean);
}

/// The pointwise losses take input and target of one shape (see loss.h for why).
void check_pointwise(const Tensor& input, const Tensor& target, const char* who) {
  NABLA_CHECK(input.defined() && target.defined(), who, ": input and target must be defined tensors");
  NABLA_CHECK(input.shape() == target.shape(), who, ": input ", input.shape(), " and target ", target.shape(),
              " must have the same shape");
  NABLA_CHECK(is_floating(input.dtype()), who, ": expected a floating point input, got ", input.dtype());
}

/// Target as a floating tensor (integer 0/1 labels are accepted and converted).
Tensor float_target(const Tensor& input, const Tensor& target) {
  return is_floating(target.dtype()) ? target : target.to(input.dtype());
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& opt,
                     const char* who) {
  return nabla::detail::cross_entropy(input, target, reduction_of(opt.reduction, who), opt.ignore_index,
                                      opt.weight, opt.label_smoothing, who);
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& opt, const char* who) {
  return nabla::detail::nll_loss(input, target, reduction_of(opt.reduction, who), opt.ignore_index,
                                 opt.weight, who);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& opt, const char* who) {
  Reduction red = reduction_of(opt.reduction, who);
  check_pointwise(input, target, who);
  Tensor d = input - target;
  return nabla::detail::reduce_loss(d * d, red);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& opt, const char* who) {
  Reduction red = reduction_of(opt.reduction, who);
  check_pointwise(input, target, who);
  return nabla::detail::reduce_loss(abs(input - target), red);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& opt,
                      const char* who) {
  Reduction red = reduction_of(opt.reduction, who);
  check_pointwise(input, target, who);
  NABLA_CHECK(opt.beta >= 0, who, ": beta must be >= 0, got ", opt.beta);
  Tensor d = input - target;
  Tensor ad = abs(d);
  if (opt.beta == 0) return nabla::detail::reduce_loss(ad, red);
  Tensor loss = where(ad < Scalar(opt.beta), d * d * Scalar(0.5 / opt.beta), ad - Scalar(0.5 * opt.beta));
  return nabla::detail::reduce_loss(loss, red);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& opt,
                            const char* who) {
  Reduction red = reduction_of(opt.reduction, who);
  check_pointwise(input, target, who);
  if (input.numel() > 0) {
    NoGradGuard no_grad;
    Tensor x = input.detach();
    graph::AllowValueReads validation_only;  // under jit::trace this check runs at trace time only
    double lo = amin(x).item<double>(), hi = amax(x).item<double>();
    NABLA_CHECK(lo >= 0 && hi <= 1, who,
                ": all elements of input must be probabilities in [0, 1], got values in [", lo, ", ", hi,
                "] (use binary_cross_entropy_with_logits for logits)");
  }
  Tensor t = float_target(input, target);
  // log clamped to >= -100 as PyTorch does, so x = 0 or 1 gives a large finite loss, not inf.
  Tensor log_x = clamp(log(input), Scalar(-100.0), std::nullopt);
  Tensor log_1mx = clamp(log(1.0 - input), Scalar(-100.0), std::nullopt);
  Tensor loss = -(t * log_x + (1.0 - t) * log_1mx);
  if (opt.weight.defined()) loss = loss * opt.weight;
  return nabla::detail::reduce_loss(loss, red);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& opt, const char* who) {
  Reduction red = reduction_of(opt.reduction, who);
  check_pointwise(input, target, who);
  Tensor t = float_target(input, target);
  // log(1 + exp(-x)) through softplus stays finite for large |x| (no exp overflow).
  Tensor sp = softplus(-input);
  Tensor loss;
  if (opt.pos_weight.defined()) {
    Tensor log_weight = (opt.pos_weight - 1.0) * t + 1.0;
    loss = (1.0 - t) * input + log_weight * sp;
  } else {
    loss = (1.0 - t) * input + sp;
  }
  if (opt.weight.defined()) loss = loss * opt.weight;
  return nabla::detail::reduce_loss(loss, red);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& opt, const char* who) {
  Reduction red = reduction_of(opt.reduction, who, /*allow_batchmean=*/true);
  check_pointwise(input, target, who);
  Tensor loss;
  if (opt.log_target) {
    loss = exp(target) * (target - input);
  } else {
    // xlogy(t, t): 0 where t == 0. log of a safe value (1 there) keeps the gradient free of NaN.
    Tensor pos = target > Scalar(0.0);
    Tensor safe = where(pos, target, scalar_tensor(1.0));
    loss = target * log(safe) - target * input;
  }
  return nabla::detail::reduce_loss(loss, red);
}

}  // namespace detail

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& opt) {
  return detail::cross_entropy(input, target, opt, "cross_entropy");
}
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& opt) {
  return detail::nll_loss(input, target, opt, "nll_loss");
}
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& opt) {
  return detail::mse_loss(input, target, opt, "mse_loss");
}
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& opt) {
  return detail::l1_loss(input, target, opt, "l1_loss");
}
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& opt) {
  return detail::smooth_l1_loss(input, target, opt, "smooth_l1_loss");
}
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& opt) {
  return detail::binary_cross_entropy(input, target, opt, "binary_cross_entropy");
}
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& opt) {
  return detail::binary_cross_entropy_with_logits(input, target, opt, "binary_cross_entropy_with_logits");
}
Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& opt) {
  return detail::kl_div(input, target, opt, "kl_div");
}

}  // namespace nabla::F
