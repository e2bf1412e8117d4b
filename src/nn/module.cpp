// nn::Module: registration, traversal, mode/dtype changes, state dicts and printing.
#include "nabla/nn/module.h"

#include <cxxabi.h>

#include <cstdlib>
#include <sstream>
#include <typeinfo>
#include <unordered_set>

#include "nabla/autograd.h"

namespace nabla::nn {
namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Makes `dst`'s TensorImpl view `src`'s data (shape, strides, dtype, storage), keeping the
// identity of dst's handle: every copy of a parameter handle (e.g. a layer's `weight` member and
// the registry entry) sees the new value. Drops the gradient, which no longer matches.
void retarget(const Tensor& dst, const Tensor& src) {
  auto& d = *dst.impl();
  const auto& s = *src.impl();
  d.storage = s.storage;
  d.shape = s.shape;
  d.strides = s.strides;
  d.offset = s.offset;
  d.dtype = s.dtype;
  d.is_view = false;
  d.grad.reset();
}

// PyTorch's _addindent: indents every line but the first by `n` spaces.
std::string add_indent(const std::string& s, int n) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out.append(n, ' ');
  }
  return out;
}

}  // namespace

Tensor Module::forward(Tensor x) {
  detail::throw_error(name(),
                      ": this module has no single-tensor forward(Tensor); define "
                      "`nabla::Tensor forward(nabla::Tensor x)` or call its own forward directly");
}

std::string Module::name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* dem = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string full = status == 0 && dem ? dem : mangled;
  std::free(dem);
  // Strip namespaces (ignoring those inside template arguments) and a trailing "Impl".
  size_t angle = full.find('<');
  std::string head = full.substr(0, angle);
  size_t colon = head.rfind("::");
  std::string n = colon == std::string::npos ? full : full.substr(colon + 2);
  if (n.size() > 4 && n.compare(n.size() - 4, 4, "Impl") == 0) n.resize(n.size() - 4);
  return n;
}

std::shared_ptr<Module> Module::clone() const {
  detail::throw_error(name(), ": clone() needs the module to derive from nabla::nn::Cloneable<", name(),
                      "> (or copy the weights into a new instance with load_state_dict(state_dict()))");
}

// ---- registration --------------------------------------------------------------------------

void Module::check_new_name(const char* what, const std::string& n) const {
  NABLA_CHECK(!n.empty(), name(), ": ", what, " name must not be empty");
  NABLA_CHECK(n.find('.') == std::string::npos, name(), ": ", what, " name '", n, "' must not contain '.'");
  NABLA_CHECK(!parameters_.contains(n) && !buffers_.contains(n) && !children_.contains(n), name(),
              ": cannot register ", what, " '", n, "': the name is already taken");
}

Tensor& Module::register_parameter(const std::string& n, Tensor tensor, bool requires_grad) {
  check_new_name("parameter", n);
  if (tensor.defined()) {
    NABLA_CHECK(tensor.is_leaf(), name(), ": parameter '", n,
                "' must be a leaf tensor (detach() it, or create it under NoGradGuard)");
    if (requires_grad) tensor.set_requires_grad(true);
  }
  return parameters_.insert(n, std::move(tensor));
}

Tensor& Module::register_buffer(const std::string& n, Tensor tensor, bool persistent) {
  check_new_name("buffer", n);
  if (!persistent) non_persistent_.push_back(n);
  return buffers_.insert(n, std::move(tensor));
}

void Module::register_child(const std::string& n, std::shared_ptr<Module> module) {
  check_new_name("submodule", n);
  NABLA_CHECK(module != nullptr, name(), ": cannot register an empty module as '", n, "'");
  NABLA_CHECK(module.get() != this, name(), ": cannot register a module as its own child ('", n, "')");
  children_.insert(n, std::move(module));
}

void Module::replace_module(const std::string& n, std::shared_ptr<Module> module) {
  NABLA_CHECK(children_.contains(n), name(), ": replace_module: no submodule named '", n, "'");
  NABLA_CHECK(module != nullptr, name(), ": replace_module: the new module for '", n, "' is empty");
  children_.insert_or_assign(n, std::move(module));
}

void Module::clear_registries() {
  parameters_.clear();
  buffers_.clear();
  children_.clear();
  non_persistent_.clear();
}

// ---- traversal -----------------------------------------------------------------------------

template <typename Fn>
void Module::visit_tensors(const std::string& prefix, bool recurse, bool params, Fn&& fn) const {
  for (const auto& [n, t] : params ? parameters_ : buffers_)
    if (t.defined()) fn(join(prefix, n), n, t);
  if (recurse)
    for (const auto& [n, child] : children_) child->visit_tensors(join(prefix, n), true, params, fn);
}

OrderedDict<Tensor> Module::named_parameters(bool recurse) const {
  OrderedDict<Tensor> out;
  std::unordered_set<const void*> seen;  // a tensor shared by two layers is listed once
  visit_tensors("", recurse, true, [&](const std::string& full, const std::string&, const Tensor& t) {
    if (seen.insert(t.impl().get()).second) out.insert(full, t);
  });
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const { return named_parameters(recurse).values(); }

OrderedDict<Tensor> Module::named_buffers(bool recurse) const {
  OrderedDict<Tensor> out;
  std::unordered_set<const void*> seen;
  visit_tensors("", recurse, false, [&](const std::string& full, const std::string&, const Tensor& t) {
    if (seen.insert(t.impl().get()).second) out.insert(full, t);
  });
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const { return named_buffers(recurse).values(); }

std::vector<std::shared_ptr<Module>> Module::children() const { return children_.values(); }

OrderedDict<Module*> Module::named_modules() {
  OrderedDict<Module*> out;
  std::unordered_set<const Module*> seen;
  std::function<void(const std::string&, Module*)> walk = [&](const std::string& prefix, Module* m) {
    if (!seen.insert(m).second) return;
    out.insert(prefix, m);
    for (const auto& [n, c] : m->children_) walk(join(prefix, n), c.get());
  };
  walk("", this);
  return out;
}

std::vector<Module*> Module::modules() { return named_modules().values(); }

void Module::apply(const std::function<void(Module&)>& fn) {
  fn(*this);
  for (const auto& [n, c] : children_) c->apply(fn);
}

// ---- mode, device, dtype -------------------------------------------------------------------

void Module::train(bool on) {
  training_ = on;
  for (const auto& [n, c] : children_) c->train(on);
}

Module& Module::to(Device device) {
  NoGradGuard guard;
  // Convert everything first, then swap: a failure (no CUDA) leaves the module unchanged.
  std::vector<std::pair<Tensor, Tensor>> moves;
  for (bool params : {true, false})
    visit_tensors("", true, params, [&](const std::string&, const std::string&, const Tensor& t) {
      if (t.device() != device) moves.emplace_back(t, t.detach().to(device));
    });
  for (auto& [dst, src] : moves) retarget(dst, src);
  return *this;
}

Module& Module::to(DType dtype) {
  NoGradGuard guard;
  std::vector<std::pair<Tensor, Tensor>> moves;
  for (bool params : {true, false})
    visit_tensors("", true, params, [&](const std::string&, const std::string&, const Tensor& t) {
      if (t.is_floating_point() && t.dtype() != dtype) moves.emplace_back(t, t.detach().to(dtype));
    });
  for (auto& [dst, src] : moves) retarget(dst, src);
  return *this;
}

Module& Module::to(Device device, DType dtype) {
  to(device);
  return to(dtype);
}

void Module::zero_grad() {
  for (const Tensor& p : parameters()) p.impl()->grad.reset();
}

// ---- serialization -------------------------------------------------------------------------

OrderedDict<Tensor> Module::state_dict() const {
  OrderedDict<Tensor> out;
  std::function<void(const std::string&, const Module&)> walk = [&](const std::string& prefix,
                                                                    const Module& m) {
    for (const auto& [n, t] : m.parameters_)
      if (t.defined()) out.insert(join(prefix, n), t.detach());
    for (const auto& [n, t] : m.buffers_) {
      bool persistent =
          std::find(m.non_persistent_.begin(), m.non_persistent_.end(), n) == m.non_persistent_.end();
      if (t.defined() && persistent) out.insert(join(prefix, n), t.detach());
    }
    for (const auto& [n, c] : m.children_) walk(join(prefix, n), *c);
  };
  walk("", *this);
  return out;
}

LoadResult Module::load_state_dict(const OrderedDict<Tensor>& state, bool strict) {
  // The live tensors (not detached copies), so the copy below writes into the module.
  OrderedDict<Tensor> own;
  std::function<void(const std::string&, const Module&)> walk = [&](const std::string& prefix,
                                                                    const Module& m) {
    for (const auto& [n, t] : m.parameters_)
      if (t.defined()) own.insert(join(prefix, n), t);
    for (const auto& [n, t] : m.buffers_)
      if (t.defined() &&
          std::find(m.non_persistent_.begin(), m.non_persistent_.end(), n) == m.non_persistent_.end())
        own.insert(join(prefix, n), t);
    for (const auto& [n, c] : m.children_) walk(join(prefix, n), *c);
  };
  walk("", *this);

  LoadResult result;
  std::vector<std::string> mismatches;
  for (const auto& [key, t] : own) {
    const Tensor* src = state.find(key);
    if (!src) {
      result.missing_keys.push_back(key);
    } else if (!src->defined() || src->shape() != t.shape()) {
      std::ostringstream os;
      os << "size mismatch for " << key << ": copying a param with shape "
         << (src->defined() ? src->shape() : Shape{}) << " from checkpoint, the shape in current model is "
         << t.shape() << ".";
      mismatches.push_back(os.str());
    }
  }
  for (const auto& [key, t] : state)
    if (!own.contains(key)) result.unexpected_keys.push_back(key);

  bool fail =
      !mismatches.empty() || (strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty()));
  if (fail) {
    std::ostringstream os;
    os << "load_state_dict: Error(s) in loading state_dict for " << name() << ":";
    auto list = [&](const char* what, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      os << "\n\t" << what << " key(s) in state_dict: ";
      for (size_t i = 0; i < keys.size(); ++i) os << (i ? ", \"" : "\"") << keys[i] << "\"";
      os << ".";
    };
    if (strict) {
      list("Missing", result.missing_keys);
      list("Unexpected", result.unexpected_keys);
    }
    for (const auto& m : mismatches) os << "\n\t" << m;
    throw Error(os.str());
  }
  NoGradGuard guard;
  for (auto& [key, t] : own)
    if (const Tensor* src = state.find(key)) {
      if (src->shares_storage_with(t) && src->storage_offset() == t.storage_offset()) continue;
      Tensor dst = t;
      dst.copy_(*src);
    }
  return result;
}

void Module::copy_from(const Module& src) {
  training_ = src.training_;
  NoGradGuard guard;
  auto copy_tensors = [&](OrderedDict<Tensor>& dst, const OrderedDict<Tensor>& from, bool params) {
    for (const auto& [n, t] : from) {
      Tensor fresh = t.defined() ? t.detach().clone() : Tensor();
      if (fresh.defined() && params && t.requires_grad()) fresh.set_requires_grad(true);
      Tensor* mine = dst.find(n);
      if (mine && mine->defined() && fresh.defined()) {
        retarget(*mine, fresh);
        mine->impl()->requires_grad = t.requires_grad();
      } else {
        dst.insert_or_assign(n, fresh);
      }
    }
  };
  copy_tensors(parameters_, src.parameters_, true);
  copy_tensors(buffers_, src.buffers_, false);
  non_persistent_ = src.non_persistent_;
  for (const auto& [n, c] : src.children_) {
    if (auto* mine = children_.find(n); mine && (*mine)->name() == c->name())
      (*mine)->copy_from(*c);
    else
      children_.insert_or_assign(n, c->clone());
  }
}

// ---- printing ------------------------------------------------------------------------------

std::string Module::repr() const {
  // Mirrors torch.nn.Module.__repr__.
  std::vector<std::string> lines;
  std::string extra = extra_repr();
  if (!extra.empty()) {
    std::istringstream is(extra);
    for (std::string l; std::getline(is, l);) lines.push_back(l);
  }
  for (const auto& [n, c] : children_) lines.push_back("(" + n + "): " + add_indent(c->repr(), 2));
  std::string out = name() + "(";
  if (!lines.empty()) {
    if (extra.find('\n') == std::string::npos && children_.empty()) {
      out += extra;
    } else {
      out += "\n";
      for (const auto& l : lines) out += "  " + l + "\n";
    }
  }
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& module) { return os << module.repr(); }

}  // namespace nabla::nn
