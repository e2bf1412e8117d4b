// nn::Module: the base of every layer and model. A module owns named parameters (trainable
// tensors), buffers (state such as running means) and child modules, and walks them for you:
// parameters(), state_dict(), to(dtype), train()/eval(), printing.
//
//   struct SimpleNet : nabla::nn::Module {
//     nabla::nn::Linear fc1{784, 64}, fc2{64, 10};
//     SimpleNet() { register_module("fc1", fc1); register_module("fc2", fc2); }
//     nabla::Tensor forward(nabla::Tensor x) { return fc2(nabla::F::relu(fc1(x))); }
//   };
//   SimpleNet model;
//   std::cout << model;            // SimpleNet(\n  (fc1): Linear(in_features=784, ...)\n  ...)
//   auto y = model(x);             // calls forward
//
// forward: Module declares `virtual Tensor forward(Tensor x)` (taking the handle by value, which is
// as cheap as a const reference for this shared handle), so a user's `Tensor forward(Tensor x)`
// overrides it and `model(x)` / Sequential call it. Modules whose forward takes other arguments
// define it with their own signature and are called as `model.forward(a, b)` (holders forward any
// arguments: `bilinear(a, b)`).
//
// Copy semantics. Built-in layers are *holders* (nn::Linear holds a shared nn::LinearImpl, as in
// PyTorch's C++ frontend): copying a holder, or a user module whose members are holders, yields a
// second handle to the SAME parameters. A deep copy is explicit: `layer.clone()` for holders,
// `module.clone()` for modules deriving from nn::Cloneable<Self>, or `copy.load_state_dict(
// model.state_dict())` for any module.
#pragma once
#include <concepts>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/nn/ordered_dict.h"
#include "nabla/tensor.h"

namespace nabla::detail {
/// The Options aggregate of a module Impl, or an empty placeholder type when it has none.
template <typename Impl>
struct OptionsOf {
  struct None {};
  using type = None;
};
template <typename Impl>
requires requires { typename Impl::Options; }
struct OptionsOf<Impl> {
  using type = typename Impl::Options;
};
}  // namespace nabla::detail

namespace nabla::nn {

/// Result of a non-strict load_state_dict: the keys that did not line up.
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // Copies share parameters, buffers and children (see the header comment).
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  /// The single-tensor forward used by operator() and Sequential. Override it.
  virtual Tensor forward(Tensor x);
  /// Calls forward(x).
  Tensor operator()(Tensor x) { return forward(std::move(x)); }

  /// Type name used when printing: the class name without namespaces and without a trailing
  /// "Impl" (LinearImpl -> Linear). Override for a custom name.
  virtual std::string name() const;
  /// The text inside the parentheses when printing (e.g. "in_features=784, out_features=64, bias=True").
  virtual std::string extra_repr() const { return {}; }
  /// A deep copy (new parameters with equal values). Available for built-in layers and for
  /// modules deriving from nn::Cloneable<Self>; others throw nabla::Error saying so.
  virtual std::shared_ptr<Module> clone() const;

  // ---- registration (names may not be empty, contain '.', or repeat) -----------------------
  /// Registers a trainable tensor (made a leaf requiring grad) and returns it. An undefined
  /// tensor registers an absent parameter (like bias=None): skipped by parameters()/state_dict().
  Tensor& register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  /// Registers a non-trainable state tensor (running stats). Non-persistent buffers are left out
  /// of state_dict().
  Tensor& register_buffer(const std::string& name, Tensor tensor, bool persistent = true);
  /// Registers a child module and returns it.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    register_child(name, module);
    return module;
  }
  /// Registers the module a holder (nn::Linear, ...) points to; the holder keeps sharing it.
  template <typename Holder>
  requires requires(const Holder& h) {
    h.ptr();
    typename Holder::ImplType;
  }
  Holder register_module(const std::string& name, Holder holder) {
    register_child(name, holder.ptr());
    return holder;
  }
  /// Swaps the child `name` for another module (the old one is no longer part of this module).
  void replace_module(const std::string& name, std::shared_ptr<Module> module);

  // ---- traversal (registration order; recursive names are dotted: "fc1.weight") -----------
  /// All parameters (each tensor once even if registered under several names).
  std::vector<Tensor> parameters(bool recurse = true) const;
  OrderedDict<Tensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  OrderedDict<Tensor> named_buffers(bool recurse = true) const;
  /// Direct children.
  std::vector<std::shared_ptr<Module>> children() const;
  const OrderedDict<std::shared_ptr<Module>>& named_children() const { return children_; }
  /// This module and all descendants, depth first (this one first, with name ""). The pointers
  /// are valid while this module lives.
  std::vector<Module*> modules();
  OrderedDict<Module*> named_modules();
  /// Calls fn on this module and every descendant (parents first), e.g. for custom init.
  void apply(const std::function<void(Module&)>& fn);

  // ---- mode, device, dtype, gradients ------------------------------------------------------
  /// Sets training mode here and in every descendant (Dropout / BatchNorm behave differently).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  /// Moves parameters and buffers (in place: existing handles see the change). Only the CPU
  /// exists in a build without CUDA; another device throws the core's error.
  Module& to(Device device);
  /// Converts floating-point parameters and buffers to `dtype` (integer buffers keep theirs).
  Module& to(DType dtype);
  Module& to(Device device, DType dtype);
  /// Drops every parameter's gradient (grad becomes undefined, like set_to_none=True).
  void zero_grad();

  // ---- serialization ----------------------------------------------------------------------
  /// Parameters and persistent buffers by dotted name (detached handles sharing the data).
  OrderedDict<Tensor> state_dict() const;
  /// Copies values by name. Every shape mismatch is an error; with `strict`, so are missing and
  /// unexpected keys. All problems are reported in one nabla::Error, and nothing is changed
  /// unless the whole load succeeds.
  LoadResult load_state_dict(const OrderedDict<Tensor>& state, bool strict = true);

  /// PyTorch-style repr of the module tree.
  std::string repr() const;

 protected:
  /// Registries, for subclasses (containers index their children directly).
  OrderedDict<Tensor> parameters_;
  OrderedDict<Tensor> buffers_;
  OrderedDict<std::shared_ptr<Module>> children_;
  std::vector<std::string> non_persistent_;
  bool training_ = true;

  /// Empties the registries (used by Cloneable before re-running reset()).
  void clear_registries();
  /// Deep-copies `src`'s values into this module's tensors by name (in place), recursing into
  /// children present in both and cloning children only `src` has. Used by clone().
  void copy_from(const Module& src);

 private:
  void register_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const char* what, const std::string& name) const;
  template <typename Fn>
  void visit_tensors(const std::string& prefix, bool recurse, bool params, Fn&& fn) const;
};

/// Prints module.repr().
std::ostream& operator<<(std::ostream& os, const Module& module);

/// A layer handle (nn::Linear, nn::ReLU, ... or a user holder made with NABLA_MODULE).
template <typename H>
concept ModuleHolderType = requires(const H& h) {
  typename H::ImplType;
  { h.ptr() } -> std::convertible_to<std::shared_ptr<Module>>;
};
/// Anything that can be registered as a child: a holder or a shared_ptr to a Module subclass.
template <typename M>
concept ModuleLike = ModuleHolderType<std::remove_cvref_t<M>> ||
    std::convertible_to<std::remove_cvref_t<M>, std::shared_ptr<Module>>;
/// The module behind a holder or shared_ptr (for containers that take either).
template <ModuleLike M>
std::shared_ptr<Module> as_module_ptr(const M& m) {
  if constexpr (ModuleHolderType<std::remove_cvref_t<M>>)
    return m.ptr();
  else
    return m;
}

/// Gives `Derived` a working clone(): copy-construct and call `reset()` (when Derived has one) so
/// the copy creates fresh parameters and children, then copy the values over. A Derived without
/// reset() is default-constructed instead (its constructor must build the same structure), or,
/// when it has no default constructor, copy-constructed with fresh registered tensors/children
/// (fine for modules whose tensors live only in the registries).
template <typename Derived>
class Cloneable : public Module {
 public:
  using Module::Module;
  std::shared_ptr<Module> clone() const override {
    std::shared_ptr<Derived> copy;
    if constexpr (requires(Derived & d) { d.reset(); }) {
      copy = std::make_shared<Derived>(static_cast<const Derived&>(*this));
      copy->clear_registries();
      copy->reset();
    } else if constexpr (std::is_default_constructible_v<Derived>) {
      copy = std::make_shared<Derived>();
    } else {
      // Plain settings are copied; registered tensors and children are re-created below.
      copy = std::make_shared<Derived>(static_cast<const Derived&>(*this));
      copy->clear_registries();
    }
    copy->copy_from(*this);
    return copy;
  }
};

/// A shared handle to a module implementation: `Linear` holds a `LinearImpl`. Constructor
/// arguments go to the Impl; `holder->member` reaches it; `holder(args...)` calls forward.
/// Copies share the Impl; clone() (on the named holders) deep-copies.
template <typename Impl>
class ModuleHolder {
 public:
  using ImplType = Impl;

  /// Default-constructs the Impl (for layers without required arguments, e.g. nn::ReLU).
  ModuleHolder() requires std::is_default_constructible_v<Impl> : impl_(std::make_shared<Impl>()) {}
  /// An empty holder (assign to it later).
  ModuleHolder(std::nullptr_t) {}
  ModuleHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  /// Options by designated initialisers: nn::Linear({.in = 784, .out = 64, .bias = false}).
  ModuleHolder(const typename ::nabla::detail::OptionsOf<Impl>::type& options) requires requires {
    typename Impl::Options;
  } : impl_(std::make_shared<Impl>(options)) {
  }
  /// Positional arguments: nn::Linear(784, 64).
  template <typename A0, typename... Args>
  requires(!std::is_same_v<std::remove_cvref_t<A0>, ModuleHolder> &&
           !std::is_same_v<std::remove_cvref_t<A0>, std::shared_ptr<Impl>> &&
           !std::is_same_v<std::remove_cvref_t<A0>, std::nullptr_t> &&
           !std::is_base_of_v<ModuleHolder, std::remove_cvref_t<A0>> &&
           std::is_constructible_v<Impl, A0, Args...>) ModuleHolder(A0&& a0, Args&&... args)
      : impl_(std::make_shared<Impl>(std::forward<A0>(a0), std::forward<Args>(args)...)) {}

  Impl* operator->() const { return get(); }
  Impl& operator*() const { return *get(); }
  Impl* get() const {
    NABLA_CHECK(impl_ != nullptr, "nn: this module holder is empty (constructed from nullptr)");
    return impl_.get();
  }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  bool is_empty() const { return impl_ == nullptr; }
  explicit operator bool() const { return impl_ != nullptr; }

  /// Calls the Impl's forward with any arguments.
  template <typename... Args>
  decltype(auto) operator()(Args&&... args) const {
    return get()->forward(std::forward<Args>(args)...);
  }

 protected:
  std::shared_ptr<Impl> impl_;
};

template <typename Impl>
std::ostream& operator<<(std::ostream& os, const ModuleHolder<Impl>& h) {
  return os << *h;
}

}  // namespace nabla::nn

/// Declares the holder `Name` for `NameImpl` (with a clone() that returns a `Name`).
#define NABLA_MODULE(Name)                                                                    \
  class Name : public ::nabla::nn::ModuleHolder<Name##Impl> {                                 \
   public:                                                                                    \
    using ::nabla::nn::ModuleHolder<Name##Impl>::ModuleHolder;                                \
    /** A deep copy: new parameters with equal values. */                                     \
    Name clone() const { return Name(std::static_pointer_cast<Name##Impl>(get()->clone())); } \
  }
