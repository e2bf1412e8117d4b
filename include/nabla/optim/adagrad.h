// nabla::optim::Adagrad — Adagrad (Duchi et al.) with learning-rate decay.
//   nabla::optim::Adagrad optimizer(model.parameters(), {.lr = 1e-2, .lr_decay = 1e-4});
// Same update as PyTorch 1.13's torch.optim.Adagrad: clr = lr / (1 + (t - 1) * lr_decay),
// sum += g^2, p -= clr * g / (sqrt(sum) + eps).
#pragma once
#include "nabla/optim/optimizer.h"

namespace nabla::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
};

class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Tensor> params, const AdagradOptions& options = {})
      : Adagrad(single_group(std::move(params)), options) {}
  Adagrad(const std::vector<ParamGroup>& groups, const AdagradOptions& defaults = {});
  void step() override;

 protected:
  void validate(const GroupOptions& o) const override;
};

}  // namespace nabla::optim
