// Loss modules: thin wrappers that call nabla::F's implementations with the module's name (so
// errors read "CrossEntropyLoss: ...") and keep class weights as buffers.
#include "nabla/nn/loss.h"

#include "nn/functional/loss_impl.h"

namespace nabla::nn {
namespace {

/// Registers a private copy of `t` (when defined) as a buffer and returns it.
Tensor own_buffer(Module& m, const std::string& name, const Tensor& t) {
  if (!t.defined()) return t;
  return m.register_buffer(name, t.detach().clone());
}

}  // namespace

CrossEntropyLossImpl::CrossEntropyLossImpl(const Options& o) : LossImplBase(o) { reset(); }
void CrossEntropyLossImpl::reset() { options.weight = own_buffer(*this, "weight", options.weight); }
Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::detail::cross_entropy(input, target, options, "CrossEntropyLoss");
}

NLLLossImpl::NLLLossImpl(const Options& o) : LossImplBase(o) { reset(); }
void NLLLossImpl::reset() { options.weight = own_buffer(*this, "weight", options.weight); }
Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::detail::nll_loss(input, target, options, "NLLLoss");
}

Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::detail::mse_loss(input, target, options, "MSELoss");
}

Tensor L1LossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::detail::l1_loss(input, target, options, "L1Loss");
}

Tensor SmoothL1LossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::detail::smooth_l1_loss(input, target, options, "SmoothL1Loss");
}

BCELossImpl::BCELossImpl(const Options& o) : LossImplBase(o) { reset(); }
void BCELossImpl::reset() { options.weight = own_buffer(*this, "weight", options.weight); }
Tensor BCELossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::detail::binary_cross_entropy(input, target, options, "BCELoss");
}

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(const Options& o) : LossImplBase(o) { reset(); }
void BCEWithLogitsLossImpl::reset() {
  options.weight = own_buffer(*this, "weight", options.weight);
  options.pos_weight = own_buffer(*this, "pos_weight", options.pos_weight);
}
Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::detail::binary_cross_entropy_with_logits(input, target, options, "BCEWithLogitsLoss");
}

Tensor KLDivLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::detail::kl_div(input, target, options, "KLDivLoss");
}

}  // namespace nabla::nn
