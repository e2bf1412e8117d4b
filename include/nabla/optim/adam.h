// nabla::optim::Adam — Adam (Kingma & Ba) with optional L2 weight decay and AMSGrad.
//   nabla::optim::Adam optimizer(model.parameters(), {.lr = 0.001});
// Same update as PyTorch 1.13's torch.optim.Adam, bias correction included:
//   step_size = lr / (1 - beta1^t),  denom = sqrt(v) / sqrt(1 - beta2^t) + eps,  p -= step_size * m / denom
#pragma once
#include <utility>

#include "nabla/optim/optimizer.h"

namespace nabla::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;  // L2: added to the gradient (see AdamW for decoupled decay)
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& options = {})
      : Adam(single_group(std::move(params)), options) {}
  Adam(const std::vector<ParamGroup>& groups, const AdamOptions& defaults = {});
  void step() override;

 protected:
  /// For AdamW: same state and options, different name and decay rule.
  Adam(const std::vector<ParamGroup>& groups, const AdamOptions& defaults, const char* name, bool decoupled);
  void validate(const GroupOptions& o) const override;

 private:
  /// Host side of one step of parameter (group, i): step count and hyper-parameter tensor. Compiled
  /// training graphs replay it before each run.
  void advance(size_t group, size_t i);
  bool decoupled_ = false;
};

}  // namespace nabla::optim
