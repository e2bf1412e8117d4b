// Optimizer base: parameter groups, option resolution, zero_grad and state_dict round trips.
#include "nabla/optim/optimizer.h"

#include <algorithm>
#include <unordered_set>

#include "nabla/autograd.h"
#include "nabla/creation.h"

namespace nabla::optim {
namespace {

/// The scalar options by name; "betas" appears as beta1/beta2 and bools as 0/1 in state dicts.
struct DoubleField {
  const char* name;
  const char* option;  // the ParamGroup option it belongs to
  double GroupOptions::*field;
};
constexpr DoubleField kDoubleFields[] = {
    {"lr", "lr", &GroupOptions::lr},
    {"weight_decay", "weight_decay", &GroupOptions::weight_decay},
    {"momentum", "momentum", &GroupOptions::momentum},
    {"dampening", "dampening", &GroupOptions::dampening},
    {"beta1", "betas", &GroupOptions::beta1},
    {"beta2", "betas", &GroupOptions::beta2},
    {"eps", "eps", &GroupOptions::eps},
    {"alpha", "alpha", &GroupOptions::alpha},
    {"lr_decay", "lr_decay", &GroupOptions::lr_decay},
    {"initial_accumulator_value", "initial_accumulator_value", &GroupOptions::initial_accumulator_value},
};
struct BoolField {
  const char* name;
  bool GroupOptions::*field;
};
constexpr BoolField kBoolFields[] = {
    {"nesterov", &GroupOptions::nesterov},
    {"amsgrad", &GroupOptions::amsgrad},
    {"centered", &GroupOptions::centered},
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

Optimizer::Optimizer(std::string name, const GroupOptions& defaults, std::vector<std::string> options,
                     std::vector<std::string> state_names, bool has_step)
    : name_(std::move(name)),
      defaults_(defaults),
      option_names_(std::move(options)),
      state_names_(std::move(state_names)),
      has_step_(has_step) {}

void Optimizer::init_groups(const std::vector<ParamGroup>& groups) {
  validate(defaults_);
  NABLA_CHECK(!groups.empty(), name_, ": got an empty list of parameter groups");
  for (const auto& g : groups) add_param_group(g);
}

bool Optimizer::has_option(const std::string& option) const {
  return std::find(option_names_.begin(), option_names_.end(), option) != option_names_.end();
}

GroupOptions Optimizer::resolve(const ParamGroup& g, size_t index) const {
  GroupOptions o = defaults_;
  auto take = [&](const auto& value, auto& field, const char* option) {
    if (!value) return;
    NABLA_CHECK(has_option(option), name_, ": parameter group ", index, " sets '", option, "', which ", name_,
                " does not have (its options: ", join(option_names_), ")");
    field = *value;
  };
  take(g.lr, o.lr, "lr");
  take(g.weight_decay, o.weight_decay, "weight_decay");
  take(g.momentum, o.momentum, "momentum");
  take(g.dampening, o.dampening, "dampening");
  take(g.nesterov, o.nesterov, "nesterov");
  std::optional<double> b1, b2;
  if (g.betas) b1 = g.betas->first, b2 = g.betas->second;
  take(b1, o.beta1, "betas");
  take(b2, o.beta2, "betas");
  take(g.eps, o.eps, "eps");
  take(g.amsgrad, o.amsgrad, "amsgrad");
  take(g.alpha, o.alpha, "alpha");
  take(g.centered, o.centered, "centered");
  take(g.lr_decay, o.lr_decay, "lr_decay");
  take(g.initial_accumulator_value, o.initial_accumulator_value, "initial_accumulator_value");
  validate(o);
  return o;
}

void Optimizer::add_param_group(const ParamGroup& group) {
  size_t index = params_.size();
  NABLA_CHECK(!group.params.empty(), name_, ": parameter group ", index, " has no parameters");
  std::unordered_set<const void*> seen;
  for (const auto& ps : params_)
    for (const auto& p : ps) seen.insert(p.impl().get());
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    NABLA_CHECK(p.defined(), name_, ": parameter ", i, " of group ", index, " is an undefined tensor");
    NABLA_CHECK(p.dtype() == kFloat32 || p.dtype() == kFloat64, name_, ": parameter ", i, " of group ", index,
                " has dtype ", p.dtype(), "; optimizers update float32 and float64 parameters");
    NABLA_CHECK(p.device() == kCPU, name_, ": parameter ", i, " of group ", index, " is on ", p.device(),
                "; optimizer steps have no kernel for that device yet");
    NABLA_CHECK(seen.insert(p.impl().get()).second, name_, ": parameter ", i, " of group ", index,
                " appears more than once in the optimizer's parameter groups");
  }
  GroupOptions o = resolve(group, index);
  params_.push_back(group.params);
  group_options_.push_back(o);
  state_.emplace_back(group.params.size());
}

void Optimizer::zero_grad(bool set_to_none) {
  for (auto& ps : params_)
    for (auto& p : ps) {
      auto& g = p.impl()->grad;
      if (!g) continue;
      if (set_to_none) {
        g.reset();
      } else {
        NoGradGuard no_grad;
        Tensor(g).detach_().zero_();
      }
    }
}

const std::vector<Tensor>& Optimizer::params(size_t group) const {
  NABLA_CHECK(group < params_.size(), name_, ": parameter group ", group, " does not exist (", params_.size(),
              " groups)");
  return params_[group];
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> all;
  for (const auto& ps : params_) all.insert(all.end(), ps.begin(), ps.end());
  return all;
}

const GroupOptions& Optimizer::options(size_t group) const {
  NABLA_CHECK(group < group_options_.size(), name_, ": parameter group ", group, " does not exist (",
              group_options_.size(), " groups)");
  return group_options_[group];
}

GroupOptions& Optimizer::options(size_t group) {
  return const_cast<GroupOptions&>(static_cast<const Optimizer*>(this)->options(group));
}

void Optimizer::set_lr(size_t group, double lr) {
  NABLA_CHECK(lr >= 0, name_, ": invalid learning rate ", lr, " (must be >= 0)");
  options(group).lr = lr;
}

void Optimizer::set_lr(double lr) {
  for (size_t g = 0; g < group_options_.size(); ++g) set_lr(g, lr);
}

std::map<std::string, double> Optimizer::options_to_map(const GroupOptions& o) const {
  std::map<std::string, double> m;
  for (const auto& f : kDoubleFields)
    if (has_option(f.option)) m[f.name] = o.*f.field;
  for (const auto& f : kBoolFields)
    if (has_option(f.name)) m[f.name] = o.*f.field ? 1.0 : 0.0;
  return m;
}

GroupOptions Optimizer::options_from_map(const std::map<std::string, double>& m, size_t group) const {
  GroupOptions o = group_options_[group];
  for (const auto& [key, value] : m) {
    bool known = false;
    for (const auto& f : kDoubleFields)
      if (key == f.name && has_option(f.option)) o.*f.field = value, known = true;
    for (const auto& f : kBoolFields)
      if (key == f.name && has_option(f.name)) o.*f.field = value != 0, known = true;
    NABLA_CHECK(known, name_, ": load_state_dict: parameter group ", group, " has option '", key, "', which ",
                name_, " does not have");
  }
  validate(o);
  return o;
}

OptimizerStateDict Optimizer::state_dict() const {
  OptimizerStateDict d;
  int64_t id = 0;
  for (size_t g = 0; g < params_.size(); ++g) {
    OptimizerStateDict::Group group{options_to_map(group_options_[g]), {}};
    for (size_t i = 0; i < params_[g].size(); ++i, ++id) {
      group.params.push_back(id);
      const ParamState& s = state_[g][i];
      std::map<std::string, Tensor> named;
      if (has_step_ && s.initialized) named["step"] = full({}, s.step, kFloat64);
      for (size_t k = 0; k < state_names_.size(); ++k)
        if (s.buf[k].defined()) named[state_names_[k]] = s.buf[k].clone();
      if (!named.empty()) d.state[id] = std::move(named);
    }
    d.param_groups.push_back(std::move(group));
  }
  return d;
}

void Optimizer::load_state_dict(const OptimizerStateDict& d) {
  const std::string where = name_ + ": load_state_dict: ";
  NABLA_CHECK(d.param_groups.size() == params_.size(), where, "the state dict has ", d.param_groups.size(),
              " parameter groups but the optimizer has ", params_.size());
  // Everything is built aside and swapped in at the end, so a failed load changes nothing.
  std::vector<GroupOptions> options(params_.size());
  std::vector<std::vector<ParamState>> state(params_.size());
  std::map<int64_t, std::pair<size_t, size_t>> where_is;  // saved number -> (group, index)
  for (size_t g = 0; g < params_.size(); ++g) {
    const auto& saved = d.param_groups[g];
    NABLA_CHECK(saved.params.size() == params_[g].size(), where, "parameter group ", g, " has ",
                saved.params.size(), " parameters in the state dict but ", params_[g].size(),
                " in the optimizer");
    options[g] = options_from_map(saved.options, g);
    state[g].resize(params_[g].size());
    for (size_t i = 0; i < saved.params.size(); ++i)
      NABLA_CHECK(where_is.emplace(saved.params[i], std::pair{g, i}).second, where, "parameter number ",
                  saved.params[i], " appears twice in the state dict's groups");
  }
  for (const auto& [id, named] : d.state) {
    auto it = where_is.find(id);
    NABLA_CHECK(it != where_is.end(), where, "state for parameter number ", id,
                " which is in none of the state dict's groups");
    auto [g, i] = it->second;
    const Tensor& p = params_[g][i];
    ParamState& s = state[g][i];
    for (const auto& [key, t] : named) {
      NABLA_CHECK(t.defined(), where, "state '", key, "' of parameter ", i, " (group ", g, ") is undefined");
      if (key == "step" && has_step_) {
        NABLA_CHECK(t.numel() == 1, where, "state 'step' of parameter ", i, " (group ", g,
                    ") must have one element, got shape ", t.shape());
        s.step = t.item<double>();
        s.initialized = true;
        continue;
      }
      auto k = std::find(state_names_.begin(), state_names_.end(), key) - state_names_.begin();
      NABLA_CHECK(k < static_cast<int64_t>(state_names_.size()), where, "unexpected state '", key,
                  "' for parameter ", i, " (group ", g, "); ", name_, " keeps: ", has_step_ ? "step, " : "",
                  join(state_names_));
      NABLA_CHECK(t.shape() == p.shape(), where, "state '", key, "' of parameter ", i, " (group ", g,
                  ") has shape ", t.shape(), " but the parameter has shape ", p.shape());
      NABLA_CHECK(t.is_floating_point(), where, "state '", key, "' has dtype ", t.dtype(),
                  ", expected floating");
      s.buf[k] =
          t.to(p.dtype()).contiguous().clone();  // deep copy: the dict and the optimizer stay independent
      s.initialized = true;
    }
  }
  group_options_ = std::move(options);
  state_ = std::move(state);
}

}  // namespace nabla::optim
