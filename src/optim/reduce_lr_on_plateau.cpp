// ReduceLROnPlateau (PyTorch 1.13's torch.optim.lr_scheduler.ReduceLROnPlateau).
#include <algorithm>
#include <cmath>
#include <limits>

#include "nabla/optim/lr_scheduler.h"

namespace nabla::optim {

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, const ReduceLROnPlateauOptions& o)
    : optimizer_(optimizer), o_(o) {
  NABLA_CHECK(o.factor < 1.0, "ReduceLROnPlateau: factor must be < 1, got ", o.factor);
  NABLA_CHECK(o.mode == "min" || o.mode == "max",
              "ReduceLROnPlateau: mode must be \"min\" or \"max\", got \"", o.mode, "\"");
  NABLA_CHECK(o.threshold_mode == "rel" || o.threshold_mode == "abs",
              "ReduceLROnPlateau: threshold_mode must be \"rel\" or \"abs\", got \"", o.threshold_mode, "\"");
  size_t groups = optimizer.num_param_groups();
  NABLA_CHECK(o.min_lr.size() == 1 || o.min_lr.size() == groups, "ReduceLROnPlateau: min_lr has ",
              o.min_lr.size(), " values; expected 1 or one per parameter group (", groups, ")");
  min_lrs_ = o.min_lr.size() == 1 ? std::vector<double>(groups, o.min_lr[0]) : o.min_lr;
  best_ =
      o.mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  for (size_t g = 0; g < groups; ++g) last_lr_.push_back(optimizer.get_lr(g));
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  bool rel = o_.threshold_mode == "rel";
  if (o_.mode == "min") return rel ? a < best * (1.0 - o_.threshold) : a < best - o_.threshold;
  return rel ? a > best * (o_.threshold + 1.0) : a > best + o_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {  // bad epochs during the cooldown do not count
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > o_.patience) {
    for (size_t g = 0; g < min_lrs_.size(); ++g) {
      double old_lr = optimizer_.get_lr(g), new_lr = std::max(old_lr * o_.factor, min_lrs_[g]);
      if (old_lr - new_lr > o_.eps) optimizer_.options(g).lr = new_lr;
    }
    cooldown_counter_ = o_.cooldown;
    num_bad_epochs_ = 0;
  }
  for (size_t g = 0; g < last_lr_.size(); ++g) last_lr_[g] = optimizer_.get_lr(g);
}

SchedulerState ReduceLROnPlateau::state_dict() const {
  return {.last_epoch = last_epoch_,
          .base_lrs = {},
          .last_lrs = last_lr_,
          .best = best_,
          .num_bad_epochs = num_bad_epochs_,
          .cooldown_counter = cooldown_counter_};
}

void ReduceLROnPlateau::load_state_dict(const SchedulerState& s) {
  NABLA_CHECK(s.last_lrs.size() == last_lr_.size(), "ReduceLROnPlateau: load_state_dict: the state has ",
              s.last_lrs.size(), " lrs but the optimizer has ", last_lr_.size(), " parameter groups");
  last_epoch_ = s.last_epoch;
  last_lr_ = s.last_lrs;
  best_ = s.best;
  num_bad_epochs_ = s.num_bad_epochs;
  cooldown_counter_ = s.cooldown_counter;
}

}  // namespace nabla::optim
