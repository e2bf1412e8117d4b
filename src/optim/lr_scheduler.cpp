// Epoch-driven LR schedulers (closed forms of PyTorch 1.13's torch.optim.lr_scheduler).
#include "nabla/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace nabla::optim {

LRScheduler::LRScheduler(Optimizer& optimizer, std::string name)
    : optimizer_(optimizer), name_(std::move(name)) {
  for (size_t g = 0; g < optimizer.num_param_groups(); ++g) base_lrs_.push_back(optimizer.get_lr(g));
}

void LRScheduler::step() {
  ++last_epoch_;
  last_lr_ = lrs_at_epoch();
  for (size_t g = 0; g < last_lr_.size(); ++g) optimizer_.options(g).lr = last_lr_[g];
}

SchedulerState LRScheduler::state_dict() const {
  return {.last_epoch = last_epoch_, .base_lrs = base_lrs_, .last_lrs = last_lr_};
}

void LRScheduler::load_state_dict(const SchedulerState& s) {
  NABLA_CHECK(s.base_lrs.size() == base_lrs_.size() && s.last_lrs.size() == base_lrs_.size(), name_,
              ": load_state_dict: the state has ", s.base_lrs.size(), " base lrs and ", s.last_lrs.size(),
              " last lrs but the optimizer has ", base_lrs_.size(), " parameter groups");
  last_epoch_ = s.last_epoch;
  base_lrs_ = s.base_lrs;
  last_lr_ = s.last_lrs;
}

// ---- StepLR, MultiStepLR, ExponentialLR ------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, const StepLROptions& o) : LRScheduler(optimizer, "StepLR"), o_(o) {
  NABLA_CHECK(o.step_size > 0, "StepLR: step_size must be > 0, got ", o.step_size);
  initial_step();
}

std::vector<double> StepLR::lrs_at_epoch() {
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(base * std::pow(o_.gamma, double(last_epoch_ / o_.step_size)));
  return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, const MultiStepLROptions& o)
    : LRScheduler(optimizer, "MultiStepLR"), o_(o) {
  std::sort(o_.milestones.begin(), o_.milestones.end());
  initial_step();
}

std::vector<double> MultiStepLR::lrs_at_epoch() {
  auto passed =
      std::upper_bound(o_.milestones.begin(), o_.milestones.end(), last_epoch_) - o_.milestones.begin();
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(base * std::pow(o_.gamma, double(passed)));
  return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& o)
    : LRScheduler(optimizer, "ExponentialLR"), o_(o) {
  initial_step();
}

std::vector<double> ExponentialLR::lrs_at_epoch() {
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(base * std::pow(o_.gamma, double(last_epoch_)));
  return lrs;
}

// ---- CosineAnnealingLR, LinearLR ------------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& o)
    : LRScheduler(optimizer, "CosineAnnealingLR"), o_(o) {
  NABLA_CHECK(o.T_max > 0, "CosineAnnealingLR: T_max must be > 0, got ", o.T_max);
  initial_step();
}

std::vector<double> CosineAnnealingLR::lrs_at_epoch() {
  double c = (1 + std::cos(std::numbers::pi * double(last_epoch_) / double(o_.T_max))) / 2;
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(o_.eta_min + (base - o_.eta_min) * c);
  return lrs;
}

LinearLR::LinearLR(Optimizer& optimizer, const LinearLROptions& o)
    : LRScheduler(optimizer, "LinearLR"), o_(o) {
  NABLA_CHECK(o.start_factor > 0 && o.start_factor <= 1, "LinearLR: start_factor must be in (0, 1], got ",
              o.start_factor);
  NABLA_CHECK(o.end_factor >= 0 && o.end_factor <= 1, "LinearLR: end_factor must be in [0, 1], got ",
              o.end_factor);
  NABLA_CHECK(o.total_iters > 0, "LinearLR: total_iters must be > 0, got ", o.total_iters);
  initial_step();
}

std::vector<double> LinearLR::lrs_at_epoch() {
  double t = double(std::min(last_epoch_, o_.total_iters)) / double(o_.total_iters);
  double f = o_.start_factor + (o_.end_factor - o_.start_factor) * t;
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(base * f);
  return lrs;
}

}  // namespace nabla::optim
