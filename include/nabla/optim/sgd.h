// nabla::optim::SGD — stochastic gradient descent with momentum, dampening, Nesterov and L2 decay.
//   nabla::optim::SGD optimizer(model.parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
// Same update as PyTorch 1.13's torch.optim.SGD (the momentum buffer starts as the first gradient).
#pragma once
#include "nabla/optim/optimizer.h"

namespace nabla::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& options = {})
      : SGD(single_group(std::move(params)), options) {}
  SGD(const std::vector<ParamGroup>& groups, const SGDOptions& defaults = {});
  void step() override;

 protected:
  void validate(const GroupOptions& o) const override;

 private:
  /// Writes the group's options into the parameter's hyper-parameter tensor (replayed by graphs).
  void advance(size_t group, size_t i);
};

}  // namespace nabla::optim
