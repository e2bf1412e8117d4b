// nabla::optim::AdamW — Adam with decoupled weight decay (Loshchilov & Hutter).
//   nabla::optim::AdamW optimizer(model.parameters(), {.lr = 1e-3, .weight_decay = 0.05});
// Same update as PyTorch 1.13's torch.optim.AdamW: p *= 1 - lr * weight_decay, then the Adam step.
#pragma once
#include "nabla/optim/adam.h"

namespace nabla::optim {

struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& options = {})
      : AdamW(single_group(std::move(params)), options) {}
  AdamW(const std::vector<ParamGroup>& groups, const AdamWOptions& defaults = {});
};

}  // namespace nabla::optim
