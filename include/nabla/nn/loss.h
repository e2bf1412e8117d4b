// Loss modules, called as criterion(output, target), with the options and semantics of nabla::F's
// loss functions (nn/functional/loss.h) and PyTorch's names. Errors name the loss:
//   "CrossEntropyLoss: input [32, 10] and target [16] disagree on the batch size".
//   nabla::nn::CrossEntropyLoss criterion;                         // or ({.label_smoothing = 0.1})
//   auto loss = criterion(model(x), labels);
//   nabla::nn::BCEWithLogitsLoss bce({.pos_weight = nabla::full({5}, 3.0)});
// Class weights (weight, pos_weight) are registered as buffers, so to(device/dtype) and
// state_dict() see them, as in PyTorch. The module keeps its own copy of them (like a layer's
// parameters): changing the tensor passed in options afterwards does not change the loss.
#pragma once
#include "nabla/nn/functional/loss.h"
#include "nabla/nn/module.h"

namespace nabla::nn {

namespace detail {
/// Options storage and printing shared by the losses.
template <typename Derived, typename Opt>
class LossImplBase : public Cloneable<Derived> {
 public:
  using Options = Opt;
  explicit LossImplBase(const Options& options) : options(options) {}
  /// Nothing to create; its presence makes clone() copy the options (see nn::Cloneable).
  void reset() {}
  using Module::forward;
  Options options;
};
}  // namespace detail

/// Softmax cross-entropy: class indices or probabilities, weight, ignore_index, label_smoothing.
class CrossEntropyLossImpl : public detail::LossImplBase<CrossEntropyLossImpl, F::CrossEntropyLossOptions> {
 public:
  CrossEntropyLossImpl() : CrossEntropyLossImpl(Options{}) {}
  explicit CrossEntropyLossImpl(const Options& options);
  /// Registers a copy of options.weight as the buffer "weight" (constructor and clone()).
  void reset();
  Tensor forward(const Tensor& input, const Tensor& target);
};
NABLA_MODULE(CrossEntropyLoss);

/// Negative log-likelihood of log-probabilities (weight, ignore_index).
class NLLLossImpl : public detail::LossImplBase<NLLLossImpl, F::NLLLossOptions> {
 public:
  NLLLossImpl() : NLLLossImpl(Options{}) {}
  explicit NLLLossImpl(const Options& options);
  void reset();
  Tensor forward(const Tensor& input, const Tensor& target);
};
NABLA_MODULE(NLLLoss);

/// Mean squared error.
class MSELossImpl : public detail::LossImplBase<MSELossImpl, F::MSELossOptions> {
 public:
  explicit MSELossImpl(const Options& options = {}) : LossImplBase(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
};
NABLA_MODULE(MSELoss);

/// Mean absolute error.
class L1LossImpl : public detail::LossImplBase<L1LossImpl, F::L1LossOptions> {
 public:
  explicit L1LossImpl(const Options& options = {}) : LossImplBase(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
};
NABLA_MODULE(L1Loss);

/// Quadratic within beta of the target, linear beyond.
class SmoothL1LossImpl : public detail::LossImplBase<SmoothL1LossImpl, F::SmoothL1LossOptions> {
 public:
  explicit SmoothL1LossImpl(const Options& options = {}) : LossImplBase(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
};
NABLA_MODULE(SmoothL1Loss);

/// Binary cross-entropy of probabilities (weight).
class BCELossImpl : public detail::LossImplBase<BCELossImpl, F::BCELossOptions> {
 public:
  BCELossImpl() : BCELossImpl(Options{}) {}
  explicit BCELossImpl(const Options& options);
  void reset();
  Tensor forward(const Tensor& input, const Tensor& target);
};
NABLA_MODULE(BCELoss);

/// Binary cross-entropy of logits, numerically stable (weight, pos_weight).
class BCEWithLogitsLossImpl
    : public detail::LossImplBase<BCEWithLogitsLossImpl, F::BCEWithLogitsLossOptions> {
 public:
  BCEWithLogitsLossImpl() : BCEWithLogitsLossImpl(Options{}) {}
  explicit BCEWithLogitsLossImpl(const Options& options);
  void reset();
  Tensor forward(const Tensor& input, const Tensor& target);
};
NABLA_MODULE(BCEWithLogitsLoss);

/// KL divergence of log-probabilities from a target distribution ("batchmean", log_target).
class KLDivLossImpl : public detail::LossImplBase<KLDivLossImpl, F::KLDivLossOptions> {
 public:
  explicit KLDivLossImpl(const Options& options = {}) : LossImplBase(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
};
NABLA_MODULE(KLDivLoss);

}  // namespace nabla::nn
