// Sequential / ModuleList / ModuleDict.
#include "nabla/nn/container.h"

namespace nabla::nn {

SequentialImpl::SequentialImpl(const OrderedDict<std::shared_ptr<Module>>& named) {
  for (const auto& [n, m] : named) push_back(n, m);
}

void SequentialImpl::push_back(const std::string& n, std::shared_ptr<Module> module) {
  register_module(n, std::move(module));
}

std::shared_ptr<Module> SequentialImpl::operator[](size_t i) const {
  NABLA_CHECK(i < size(), "Sequential: index ", i, " is out of range for ", size(), " layers");
  return children_.item(i).second;
}

Tensor SequentialImpl::forward(Tensor x) {
  for (size_t i = 0; i < children_.size(); ++i) {
    Module& layer = *children_.item(i).second;
    try {
      x = layer.forward(std::move(x));
    } catch (const Error& e) {
      // Only formatted on failure: the success path is a plain virtual call per layer.
      throw Error("Sequential[" + std::to_string(i) + "] (" + layer.name() + "(" + layer.extra_repr() +
                  ")): " + e.what());
    }
  }
  return x;
}

std::shared_ptr<Module> ModuleListImpl::operator[](size_t i) const {
  NABLA_CHECK(i < size(), "ModuleList: index ", i, " is out of range for ", size(), " modules");
  return children_.item(i).second;
}

std::shared_ptr<Module> ModuleDictImpl::operator[](const std::string& key) const {
  const auto* m = children_.find(key);
  NABLA_CHECK(m != nullptr, "ModuleDict: no module named '", key, "'");
  return *m;
}

}  // namespace nabla::nn
