// Containers: Sequential (chains forward), ModuleList (an indexed list), ModuleDict (by name).
// They hold layers by reference (holders or shared_ptrs); their children are named "0", "1", ...
// (or by key for ModuleDict), so parameters are "0.weight", "layers.1.bias", ...
//   nabla::nn::Sequential net{nabla::nn::Linear(784, 64), nabla::nn::ReLU(), nabla::nn::Linear(64, 10)};
//   auto y = net(x);                          // runs each layer in order
//   net->push_back(nabla::nn::LogSoftmax(1));
//   auto& fc = net->at<nabla::nn::LinearImpl>(0);
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nabla/nn/module.h"

namespace nabla::nn {

/// Calls its children's forward(Tensor) in order. A failing layer's error is prefixed with its
/// index and type: "Sequential[1] (Linear(in_features=64, ...)): ...". Built-in layers in a row
/// that have a fused op run as that op, with the same values: ReLU -> MaxPool2d as
/// relu_max_pool2d, and (outside a trace) Conv2d -> ReLU -> MaxPool2d as conv2d_relu_max_pool2d,
/// whose backward visits only the pool's winners (gradients equal up to float rounding).
class SequentialImpl : public Cloneable<SequentialImpl> {
 public:
  SequentialImpl() = default;
  template <ModuleLike... Ms>
  requires(sizeof...(Ms) > 0) explicit SequentialImpl(const Ms&... modules) { (push_back(modules), ...); }
  /// Named children, in order.
  explicit SequentialImpl(const OrderedDict<std::shared_ptr<Module>>& named);

  template <ModuleLike M>
  void push_back(const M& module) {
    push_back(std::to_string(size()), as_module_ptr(module));
  }
  void push_back(const std::string& name, std::shared_ptr<Module> module);
  size_t size() const { return children_.size(); }
  bool empty() const { return children_.empty(); }
  /// The i-th layer (throws nabla::Error when out of range).
  std::shared_ptr<Module> operator[](size_t i) const;
  /// The i-th layer as its Impl type (throws nabla::Error on a type mismatch).
  template <typename T>
  T& at(size_t i) const {
    auto* p = dynamic_cast<T*>((*this)[i].get());
    NABLA_CHECK(p != nullptr, "Sequential: layer ", i, " is a ", (*this)[i]->name(),
                ", not the requested type");
    return *p;
  }
  Tensor forward(Tensor x) override;
};
NABLA_MODULE(Sequential);

/// An indexed list of modules, registered as "0", "1", ... (no forward of its own).
class ModuleListImpl : public Cloneable<ModuleListImpl> {
 public:
  ModuleListImpl() = default;
  template <ModuleLike... Ms>
  requires(sizeof...(Ms) > 0) explicit ModuleListImpl(const Ms&... modules) { (push_back(modules), ...); }
  template <ModuleLike M>
  void push_back(const M& module) {
    register_module(std::to_string(size()), as_module_ptr(module));
  }
  size_t size() const { return children_.size(); }
  bool empty() const { return children_.empty(); }
  std::shared_ptr<Module> operator[](size_t i) const;
  template <typename T>
  T& at(size_t i) const {
    auto* p = dynamic_cast<T*>((*this)[i].get());
    NABLA_CHECK(p != nullptr, "ModuleList: entry ", i, " is a ", (*this)[i]->name(),
                ", not the requested type");
    return *p;
  }
  auto begin() const { return children_.begin(); }
  auto end() const { return children_.end(); }
};
NABLA_MODULE(ModuleList);

/// Modules by name, in insertion order (no forward of its own).
class ModuleDictImpl : public Cloneable<ModuleDictImpl> {
 public:
  ModuleDictImpl() = default;
  explicit ModuleDictImpl(const OrderedDict<std::shared_ptr<Module>>& modules) { update(modules); }
  /// Adds (or replaces) the module under `key`.
  template <ModuleLike M>
  void insert(const std::string& key, const M& module) {
    if (children_.contains(key))
      replace_module(key, as_module_ptr(module));
    else
      register_module(key, as_module_ptr(module));
  }
  void update(const OrderedDict<std::shared_ptr<Module>>& modules) {
    for (const auto& [k, m] : modules) insert(k, m);
  }
  bool contains(const std::string& key) const { return children_.contains(key); }
  size_t size() const { return children_.size(); }
  std::vector<std::string> keys() const { return children_.keys(); }
  /// The module under `key` (throws nabla::Error naming the missing key).
  std::shared_ptr<Module> operator[](const std::string& key) const;
  auto begin() const { return children_.begin(); }
  auto end() const { return children_.end(); }
};
NABLA_MODULE(ModuleDict);

}  // namespace nabla::nn
