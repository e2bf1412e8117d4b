// keras::optimizers: Keras's optimizer names and defaults as recipes that build the matching
// nabla::optim optimizer once the model's weights exist (Keras also creates its slots lazily).
//   model.compile({.optimizer = optimizers::Adam({.learning_rate = 1e-3}), .loss = "mse"});
//   model.compile({.optimizer = "sgd", .loss = "mse"});          // SGD(learning_rate = 0.01)
// Keras's defaults differ from PyTorch's: epsilon 1e-7, RMSprop rho 0.9 and lr 1e-3, SGD lr 0.01,
// AdamW weight_decay 0.004. The update rules are nabla::optim's (PyTorch's); for Adam that puts
// epsilon after the bias correction, a difference of order epsilon.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nabla/optim/optimizer.h"

namespace nabla::keras::optimizers {

class Optimizer {
 public:
  Optimizer(std::string name, double learning_rate) : name(std::move(name)), learning_rate(learning_rate) {}
  virtual ~Optimizer() = default;
  /// The nabla optimizer over `params`.
  virtual std::unique_ptr<optim::Optimizer> create(std::vector<Tensor> params) const = 0;
  std::string name;
  double learning_rate;
};

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
};
class Adam : public Optimizer {
 public:
  explicit Adam(const AdamOptions& o = {}) : Optimizer("adam", o.learning_rate), options(o) {}
  std::unique_ptr<optim::Optimizer> create(std::vector<Tensor> params) const override;
  AdamOptions options;
};

struct AdamWOptions {
  double learning_rate = 1e-3;
  double weight_decay = 0.004;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
};
class AdamW : public Optimizer {
 public:
  explicit AdamW(const AdamWOptions& o = {}) : Optimizer("adamw", o.learning_rate), options(o) {}
  std::unique_ptr<optim::Optimizer> create(std::vector<Tensor> params) const override;
  AdamWOptions options;
};

struct SGDOptions {
  double learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
};
class SGD : public Optimizer {
 public:
  explicit SGD(const SGDOptions& o = {}) : Optimizer("sgd", o.learning_rate), options(o) {}
  std::unique_ptr<optim::Optimizer> create(std::vector<Tensor> params) const override;
  SGDOptions options;
};

struct RMSpropOptions {
  double learning_rate = 1e-3;
  double rho = 0.9;
  double momentum = 0.0;
  double epsilon = 1e-7;
  bool centered = false;
};
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(const RMSpropOptions& o = {}) : Optimizer("rmsprop", o.learning_rate), options(o) {}
  std::unique_ptr<optim::Optimizer> create(std::vector<Tensor> params) const override;
  RMSpropOptions options;
};

/// "adam", "adamw", "sgd", "rmsprop" with Keras's defaults.
std::shared_ptr<Optimizer> get(const std::string& name);

}  // namespace nabla::keras::optimizers
