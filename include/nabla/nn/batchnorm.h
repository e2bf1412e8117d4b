// BatchNorm1d / BatchNorm2d: per-channel normalisation with learnable scale and shift, running
// statistics for evaluation (PyTorch semantics: the running variance uses the unbiased batch
// variance; momentum = nullopt means a cumulative average over the batches seen).
//   nabla::nn::BatchNorm2d bn(32);                    // or bn({.num_features = 32, .momentum = 0.01})
//   auto y = bn(x);                                   // x [N, 32, H, W]; training: batch statistics
//   bn->eval();  bn(x);                               // running_mean / running_var
//   std::cout << bn;  // BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
#pragma once
#include <optional>

#include "nabla/nn/module.h"

namespace nabla::nn {

struct BatchNormOptions {
  int64_t num_features = 0;
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;  // nullopt: cumulative moving average
  bool affine = true;                    // learnable weight (ones) and bias (zeros)
  bool track_running_stats = true;       // buffers running_mean, running_var, num_batches_tracked
};

namespace detail {
/// What BatchNorm1d and BatchNorm2d share (everything but the accepted input ranks).
template <typename Derived>
class BatchNormImplBase : public Cloneable<Derived> {
 public:
  using Options = BatchNormOptions;
  explicit BatchNormImplBase(const Options& options);
  /// Creates and registers parameters and buffers (called by the constructor and by clone()).
  void reset();
  /// Running stats back to mean 0, variance 1, 0 batches.
  void reset_running_stats();
  /// reset_running_stats() and weight = 1, bias = 0.
  void reset_parameters();
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;

  Options options;
  Tensor weight, bias;                                    // [C] (undefined without affine)
  Tensor running_mean, running_var, num_batches_tracked;  // undefined without track_running_stats
};
}  // namespace detail

/// Batch norm over [N, C] or [N, C, L] inputs.
class BatchNorm1dImpl : public detail::BatchNormImplBase<BatchNorm1dImpl> {
 public:
  using BatchNormImplBase::BatchNormImplBase;
  explicit BatchNorm1dImpl(int64_t num_features) : BatchNormImplBase(Options{.num_features = num_features}) {}
};
NABLA_MODULE(BatchNorm1d);

/// Batch norm over [N, C, H, W] inputs.
class BatchNorm2dImpl : public detail::BatchNormImplBase<BatchNorm2dImpl> {
 public:
  using BatchNormImplBase::BatchNormImplBase;
  explicit BatchNorm2dImpl(int64_t num_features) : BatchNormImplBase(Options{.num_features = num_features}) {}
};
NABLA_MODULE(BatchNorm2d);

extern template class detail::BatchNormImplBase<BatchNorm1dImpl>;
extern template class detail::BatchNormImplBase<BatchNorm2dImpl>;

}  // namespace nabla::nn
