// Learning-rate schedulers: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR,
// OneCycleLR and ReduceLROnPlateau, with PyTorch 1.13's values.
//   nabla::optim::SGD optimizer(model.parameters(), {.lr = 0.1, .momentum = 0.9});
//   nabla::optim::CosineAnnealingLR scheduler(optimizer, {.T_max = 100});
//   for (int epoch = 0; epoch < 100; ++epoch) { train_one_epoch(); scheduler.step(); }
// A scheduler keeps a reference to its optimizer (which must outlive it) and sets each group's lr
// when built (epoch 0) and at every step(). Schedulers compute the closed form of the epoch number
// from the base learning rates (the lrs the groups had when the scheduler was built), equal to
// PyTorch's recursive updates up to rounding; so they do not compose by multiplying each other's lr.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nabla/optim/optimizer.h"

namespace nabla::optim {

/// What a scheduler needs to resume from a checkpoint.
struct SchedulerState {
  int64_t last_epoch = -1;
  std::vector<double> base_lrs;
  std::vector<double> last_lrs;
  // ReduceLROnPlateau only.
  double best = 0;
  int64_t num_bad_epochs = 0;
  int64_t cooldown_counter = 0;
};

/// Base of the epoch-driven schedulers.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  /// Advances one epoch (one batch for OneCycleLR) and sets the groups' learning rates.
  void step();
  /// The learning rates set by the last step (or by the constructor), one per group.
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  SchedulerState state_dict() const;
  /// Restores a state (the optimizer's own lrs come back with Optimizer::load_state_dict).
  void load_state_dict(const SchedulerState& state);

 protected:
  LRScheduler(Optimizer& optimizer, std::string name);
  /// The learning rates at last_epoch_ (and, for OneCycleLR, sets momentum as a side effect).
  virtual std::vector<double> lrs_at_epoch() = 0;
  /// Call at the end of a derived constructor: epoch 0, as PyTorch's constructor does.
  void initial_step() { step(); }

  Optimizer& optimizer_;
  std::string name_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = -1;
};

struct StepLROptions {
  int64_t step_size = 1;
  double gamma = 0.1;
};
/// lr = base_lr * gamma^(epoch / step_size).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, const StepLROptions& options);

 protected:
  std::vector<double> lrs_at_epoch() override;
  StepLROptions o_;
};

struct MultiStepLROptions {
  std::vector<int64_t> milestones;  // epochs at which lr is multiplied by gamma (repeats count twice)
  double gamma = 0.1;
};
/// lr = base_lr * gamma^(number of milestones <= epoch).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, const MultiStepLROptions& options);

 protected:
  std::vector<double> lrs_at_epoch() override;
  MultiStepLROptions o_;
};

struct ExponentialLROptions {
  double gamma = 0.1;
};
/// lr = base_lr * gamma^epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& options);

 protected:
  std::vector<double> lrs_at_epoch() override;
  ExponentialLROptions o_;
};

struct CosineAnnealingLROptions {
  int64_t T_max = 1;
  double eta_min = 0;
};
/// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (rising again after T_max,
/// as PyTorch's recursive form does).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& options);

 protected:
  std::vector<double> lrs_at_epoch() override;
  CosineAnnealingLROptions o_;
};

struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  int64_t total_iters = 5;
};
/// Warm-up: lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters).
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, const LinearLROptions& options);

 protected:
  std::vector<double> lrs_at_epoch() override;
  LinearLROptions o_;
};

struct OneCycleLROptions {
  std::vector<double> max_lr;  // one value for every group, or one per group
  int64_t total_steps = 0;     // or epochs * steps_per_epoch
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;
  double pct_start = 0.3;
  std::string anneal_strategy = "cos";  // or "linear"
  bool cycle_momentum = true;           // momentum (SGD, RMSprop) or betas[0] (Adam, AdamW)
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25;         // initial lr = max_lr / div_factor
  double final_div_factor = 1e4;  // final lr = initial lr / final_div_factor
};
/// The 1cycle policy (Smith & Topal), two phases; step() once per batch, total_steps times at most.
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options);

 protected:
  std::vector<double> lrs_at_epoch() override;
  double anneal(double start, double end, double pct) const;
  OneCycleLROptions o_;
  int64_t total_steps_ = 0;
  bool use_beta1_ = false;
  std::vector<double> max_lrs_, min_lrs_;
};

struct ReduceLROnPlateauOptions {
  std::string mode = "min";  // "min": lower metric is better; "max": higher is better
  double factor = 0.1;       // new lr = lr * factor
  int64_t patience = 10;     // epochs without improvement before reducing
  double threshold = 1e-4;
  std::string threshold_mode = "rel";  // "rel" or "abs"
  int64_t cooldown = 0;                // epochs to wait after a reduction
  std::vector<double> min_lr = {0};    // one value for every group, or one per group
  double eps = 1e-8;                   // reductions smaller than this are skipped
};
/// Reduces the learning rate when a metric stops improving: step(metric) once per epoch.
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, const ReduceLROnPlateauOptions& options = {});
  void step(double metric);
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  SchedulerState state_dict() const;
  void load_state_dict(const SchedulerState& state);

 private:
  bool is_better(double a, double best) const;
  Optimizer& optimizer_;
  ReduceLROnPlateauOptions o_;
  std::vector<double> min_lrs_, last_lr_;
  double best_;
  int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
};

}  // namespace nabla::optim
