// nabla::optim::Optimizer — the base of SGD, Adam, AdamW, RMSprop and Adagrad.
//
// An optimizer holds parameter groups: each group is a list of parameters plus its own options
// (lr, weight_decay, ...). Options a group leaves unset take the optimizer's defaults, as in PyTorch:
//   nabla::optim::Adam optimizer(model.parameters(), {.lr = 1e-3});
//   nabla::optim::SGD sgd({{.params = backbone}, {.params = head, .lr = 0.1}}, {.lr = 0.01, .momentum =
//   0.9}); optimizer.zero_grad(); loss.backward(); optimizer.step();
// step() updates every parameter that has a gradient in place, with one fused pass over its data;
// parameters without a gradient are skipped. state_dict()/load_state_dict() save and restore the
// per-parameter state (step count, moments, momentum buffers) and the group options.
// Numerics: float64 parameters get PyTorch's formulas with correctly rounded sqrt and divide. For
// float32 on a CPU with AVX-512, Adam/AdamW, RMSprop and Adagrad take the square root from a
// refined hardware estimate (within 1 ulp), so an update is within a few ulp of PyTorch's rather
// than bit-for-bit (20 steps stay within 1e-5 of PyTorch's parameters; inf and NaN propagate as in
// PyTorch). Results never depend on the thread count.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::optim {

/// Parameters with their own options; an unset option takes the optimizer's default.
/// Designated initialisers must follow this declaration order. Setting an option the optimizer
/// does not have (e.g. .momentum for Adam) is an error. (The `= {}` initialisers keep GCC's
/// -Wmissing-field-initializers quiet for designated initialisers that omit fields.)
struct ParamGroup {
  std::vector<Tensor> params = {};
  std::optional<double> lr = {};
  std::optional<double> weight_decay = {};
  std::optional<double> momentum = {};                   // SGD, RMSprop
  std::optional<double> dampening = {};                  // SGD
  std::optional<bool> nesterov = {};                     // SGD
  std::optional<std::pair<double, double>> betas = {};   // Adam, AdamW: .betas = std::pair{0.8, 0.99}
  std::optional<double> eps = {};                        // Adam, AdamW, RMSprop, Adagrad
  std::optional<bool> amsgrad = {};                      // Adam, AdamW
  std::optional<double> alpha = {};                      // RMSprop
  std::optional<bool> centered = {};                     // RMSprop
  std::optional<double> lr_decay = {};                   // Adagrad
  std::optional<double> initial_accumulator_value = {};  // Adagrad
};

/// The resolved options of one group (every optimizer's fields; each uses its own).
struct GroupOptions {
  double lr = 0, weight_decay = 0, momentum = 0, dampening = 0, beta1 = 0, beta2 = 0, eps = 0;
  double alpha = 0, lr_decay = 0, initial_accumulator_value = 0;
  bool nesterov = false, amsgrad = false, centered = false;
};

/// A snapshot of an optimizer (PyTorch's layout). Parameters are numbered 0.. across groups in
/// order; `state` maps a parameter's number to its named state tensors ("step", "exp_avg", ...),
/// and has no entry for a parameter that has not been stepped yet.
struct OptimizerStateDict {
  struct Group {
    std::map<std::string, double> options;  // "lr", "weight_decay", "beta1", "amsgrad" (0/1), ...
    std::vector<int64_t> params;            // the numbers of this group's parameters
  };
  std::map<int64_t, std::map<std::string, Tensor>> state;
  std::vector<Group> param_groups;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // State tensors are owned by one optimizer: copying would make two optimizers share moments.
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) = default;
  Optimizer& operator=(Optimizer&&) = default;

  /// Updates every parameter that has a gradient (in place, without recording autograd history).
  virtual void step() = 0;
  /// Drops every parameter's gradient (set_to_none, PyTorch 2's default) or zeroes it in place.
  void zero_grad(bool set_to_none = true);
  /// Adds a group (options it leaves unset take the defaults). A parameter may be in one group only.
  void add_param_group(const ParamGroup& group);

  /// "SGD", "Adam", ...: used in error messages.
  const std::string& name() const { return name_; }
  size_t num_param_groups() const { return params_.size(); }
  const std::vector<Tensor>& params(size_t group) const;
  /// Every parameter, group by group.
  std::vector<Tensor> parameters() const;
  /// Options of one group; schedulers and users may change them between steps.
  const GroupOptions& options(size_t group) const;
  GroupOptions& options(size_t group);
  /// The optimizer's defaults (what unset group options take).
  const GroupOptions& defaults() const { return defaults_; }
  /// True when this optimizer has the option ("lr", "momentum", "betas", ...).
  bool has_option(const std::string& option) const;

  /// Learning rate of one group.
  double get_lr(size_t group = 0) const { return options(group).lr; }
  /// Sets the learning rate of one group.
  void set_lr(size_t group, double lr);
  /// Sets the learning rate of every group.
  void set_lr(double lr);

  /// A snapshot (copies of the state tensors: later steps do not change it).
  OptimizerStateDict state_dict() const;
  /// Restores a snapshot. Group count, group sizes and state shapes must match this optimizer;
  /// on any mismatch it throws nabla::Error and leaves the optimizer unchanged.
  void load_state_dict(const OptimizerStateDict& dict);

 protected:
  /// State of one parameter: step count and up to three buffers named by state_names_.
  struct ParamState {
    bool initialized = false;
    double step = 0;
    Tensor buf[3];
    Tensor hyper;  // float64 scalars the update op reads (lr, betas, step, ...): see ops adam_step
  };

  /// `options` lists the option names (as in ParamGroup), `state_names` the buffer names,
  /// `has_step` whether the state has a step count (all but SGD).
  Optimizer(std::string name, const GroupOptions& defaults, std::vector<std::string> options,
            std::vector<std::string> state_names, bool has_step);
  /// Adds the constructor's groups (call at the end of the derived constructor).
  void init_groups(const std::vector<ParamGroup>& groups);
  /// Throws nabla::Error for invalid option values (negative lr, betas outside [0, 1), ...).
  virtual void validate(const GroupOptions& o) const = 0;

  std::string name_;
  GroupOptions defaults_;
  std::vector<std::string> option_names_;
  std::vector<std::string> state_names_;
  bool has_step_;
  std::vector<std::vector<Tensor>> params_;     // per group
  std::vector<GroupOptions> group_options_;     // per group
  std::vector<std::vector<ParamState>> state_;  // per group, per parameter

 private:
  GroupOptions resolve(const ParamGroup& group, size_t index) const;
  std::map<std::string, double> options_to_map(const GroupOptions& o) const;
  GroupOptions options_from_map(const std::map<std::string, double>& m, size_t group) const;
};

/// Wraps a parameter list as one group (the common single-group constructor).
inline std::vector<ParamGroup> single_group(std::vector<Tensor> params) {
  std::vector<ParamGroup> g(1);
  g[0].params = std::move(params);
  return g;
}

}  // namespace nabla::optim
