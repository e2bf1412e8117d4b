// Keras optimizer recipes -> nabla::optim optimizers.
#include "nabla/keras/optimizers.h"

#include "nabla/optim/adam.h"
#include "nabla/optim/adamw.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"

namespace nabla::keras::optimizers {

std::unique_ptr<optim::Optimizer> Adam::create(std::vector<Tensor> params) const {
  return std::make_unique<optim::Adam>(std::move(params),
                                       optim::AdamOptions{.lr = options.learning_rate,
                                                          .betas = {options.beta_1, options.beta_2},
                                                          .eps = options.epsilon,
                                                          .weight_decay = 0,
                                                          .amsgrad = options.amsgrad});
}

std::unique_ptr<optim::Optimizer> AdamW::create(std::vector<Tensor> params) const {
  return std::make_unique<optim::AdamW>(std::move(params),
                                        optim::AdamWOptions{.lr = options.learning_rate,
                                                            .betas = {options.beta_1, options.beta_2},
                                                            .eps = options.epsilon,
                                                            .weight_decay = options.weight_decay,
                                                            .amsgrad = options.amsgrad});
}

std::unique_ptr<optim::Optimizer> SGD::create(std::vector<Tensor> params) const {
  return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions{.lr = options.learning_rate,
                                                                           .momentum = options.momentum,
                                                                           .nesterov = options.nesterov});
}

std::unique_ptr<optim::Optimizer> RMSprop::create(std::vector<Tensor> params) const {
  return std::make_unique<optim::RMSprop>(std::move(params),
                                          optim::RMSpropOptions{.lr = options.learning_rate,
                                                                .alpha = options.rho,
                                                                .eps = options.epsilon,
                                                                .momentum = options.momentum,
                                                                .centered = options.centered});
}

std::shared_ptr<Optimizer> get(const std::string& name) {
  if (name == "adam") return std::make_shared<Adam>();
  if (name == "adamw") return std::make_shared<AdamW>();
  if (name == "sgd") return std::make_shared<SGD>();
  if (name == "rmsprop") return std::make_shared<RMSprop>();
  nabla::detail::throw_error("optimizers: unknown optimizer '", name,
                             "' (expected adam, adamw, sgd or rmsprop)");
}

}  // namespace nabla::keras::optimizers
