// OneCycleLR (PyTorch 1.13's two-phase schedule, momentum cycled the opposite way).
#include <cmath>
#include <numbers>

#include "nabla/optim/lr_scheduler.h"

namespace nabla::optim {
namespace {

std::vector<double> per_group(const std::vector<double>& v, size_t groups, const char* what) {
  NABLA_CHECK(v.size() == 1 || v.size() == groups, "OneCycleLR: ", what, " has ", v.size(),
              " values; expected 1 or one per parameter group (", groups, ")");
  return v.size() == 1 ? std::vector<double>(groups, v[0]) : v;
}

}  // namespace

OneCycleLR::OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& o)
    : LRScheduler(optimizer, "OneCycleLR"), o_(o) {
  if (o.total_steps > 0) {
    total_steps_ = o.total_steps;
  } else {
    NABLA_CHECK(o.epochs > 0 && o.steps_per_epoch > 0,
                "OneCycleLR: give total_steps > 0, or epochs > 0 and steps_per_epoch > 0 (got total_steps ",
                o.total_steps, ", epochs ", o.epochs, ", steps_per_epoch ", o.steps_per_epoch, ")");
    total_steps_ = o.epochs * o.steps_per_epoch;
  }
  NABLA_CHECK(o.pct_start >= 0 && o.pct_start <= 1, "OneCycleLR: pct_start must be in [0, 1], got ",
              o.pct_start);
  NABLA_CHECK(o.anneal_strategy == "cos" || o.anneal_strategy == "linear",
              "OneCycleLR: anneal_strategy must be \"cos\" or \"linear\", got \"", o.anneal_strategy, "\"");
  size_t groups = optimizer.num_param_groups();
  NABLA_CHECK(!o.max_lr.empty(), "OneCycleLR: max_lr is required");
  max_lrs_ = per_group(o.max_lr, groups, "max_lr");
  base_lrs_.clear();
  for (double m : max_lrs_) {
    base_lrs_.push_back(m / o.div_factor);  // PyTorch's group['initial_lr']
    min_lrs_.push_back(m / o.div_factor / o.final_div_factor);
  }
  if (o.cycle_momentum) {
    NABLA_CHECK(optimizer.has_option("momentum") || optimizer.has_option("betas"),
                "OneCycleLR: ", optimizer.name(),
                " has neither momentum nor betas; pass .cycle_momentum = false");
    use_beta1_ = optimizer.has_option("betas");
  }
  initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (o_.anneal_strategy == "linear") return (end - start) * pct + start;
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
}

std::vector<double> OneCycleLR::lrs_at_epoch() {
  int64_t step_num = last_epoch_;
  NABLA_CHECK(step_num <= total_steps_, "OneCycleLR: tried to step ", step_num + 1, " times; total_steps is ",
              total_steps_);
  // Phase 1 ends at pct_start * total - 1 (a fractional step, as in PyTorch), phase 2 at total - 1.
  double end1 = o_.pct_start * double(total_steps_) - 1, end2 = double(total_steps_ - 1);
  bool first = double(step_num) <= end1;
  double pct = first ? double(step_num) / end1 : (double(step_num) - end1) / (end2 - end1);
  std::vector<double> lrs;
  for (size_t g = 0; g < base_lrs_.size(); ++g) {
    lrs.push_back(first ? anneal(base_lrs_[g], max_lrs_[g], pct) : anneal(max_lrs_[g], min_lrs_[g], pct));
    if (!o_.cycle_momentum) continue;
    double m = first ? anneal(o_.max_momentum, o_.base_momentum, pct)
                     : anneal(o_.base_momentum, o_.max_momentum, pct);
    if (use_beta1_)
      optimizer_.options(g).beta1 = m;
    else
      optimizer_.options(g).momentum = m;
  }
  return lrs;
}

}  // namespace nabla::optim
