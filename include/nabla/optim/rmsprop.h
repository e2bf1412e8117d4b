// nabla::optim::RMSprop — RMSprop (Hinton), optionally centered and with momentum.
//   nabla::optim::RMSprop optimizer(model.parameters(), {.lr = 1e-2, .momentum = 0.9, .centered = true});
// Same update as PyTorch 1.13's torch.optim.RMSprop.
#pragma once
#include "nabla/optim/optimizer.h"

namespace nabla::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;  // smoothing constant of the squared-gradient average
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;  // normalise by the estimated variance instead of the raw second moment
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, const RMSpropOptions& options = {})
      : RMSprop(single_group(std::move(params)), options) {}
  RMSprop(const std::vector<ParamGroup>& groups, const RMSpropOptions& defaults = {});
  void step() override;

 protected:
  void validate(const GroupOptions& o) const override;
  /// Counts the step and writes the group's options into the hyper-parameter tensor (replayed by
  /// compiled graphs before each run).
  void advance(size_t group, size_t i);
};

}  // namespace nabla::optim
