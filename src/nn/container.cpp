// Sequential / ModuleList / ModuleDict.
#include "nabla/nn/container.h"

#include <typeinfo>

#include "nabla/nn/activation.h"
#include "nabla/nn/pooling.h"

namespace nabla::nn {
namespace {

// ReLU then MaxPool2d (both exactly the built-in layers, so neither forward is overridden) run
// as one relu_max_pool2d: the same values and gradients without the full-size ReLU output and its
// two memory passes (forward and backward). The intermediate is not observable from outside.
MaxPool2dImpl* fusable_relu_pool(Module& layer, Module* next) {
  if (next == nullptr || typeid(layer) != typeid(ReLUImpl) || typeid(*next) != typeid(MaxPool2dImpl))
    return nullptr;
  return static_cast<MaxPool2dImpl*>(next);
}

}  // namespace

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
      Module* next = i + 1 < children_.size() ? children_.item(i + 1).second.get() : nullptr;
      if (MaxPool2dImpl* pool = fusable_relu_pool(layer, next)) {
        ++i;  // an error names the pool, the layer that checks shapes
        x = pool->forward_relu(x);
        continue;
      }
      x = layer.forward(std::move(x));
    } catch (const Error& e) {
      // Only formatted on failure: the success path is a plain virtual call per layer.
      Module& failed = *children_.item(i).second;
      throw Error("Sequential[" + std::to_string(i) + "] (" + failed.name() + "(" + failed.extra_repr() +
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
