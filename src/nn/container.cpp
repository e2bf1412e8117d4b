// Sequential / ModuleList / ModuleDict.
#include "nabla/nn/container.h"

#include <typeinfo>

#include "graph/trace.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/conv.h"
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

// Conv2d, ReLU, MaxPool2d (all three exactly the built-in layers) run as one
// conv2d_relu_max_pool2d: the conv output is pooled per image in cache and the backward pass
// visits only the pool's winners (about a quarter of the conv's backward work for a 2x2 pool).
// The same values; gradients equal up to float rounding. Not while a graph is traced: the graph's
// own passes make the same fusion after autodiff (graph/passes/fuse_conv_pool.cpp), and exported
// graphs keep the three standard ops.
MaxPool2dImpl* fusable_conv_relu_pool(Module& layer, Module* next, Module* after) {
  if (after == nullptr || typeid(layer) != typeid(Conv2dImpl) || !fusable_relu_pool(*next, after) ||
      graph::active_tracer() != nullptr)
    return nullptr;
  return static_cast<MaxPool2dImpl*>(after);
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
      Module* after = i + 2 < children_.size() ? children_.item(i + 2).second.get() : nullptr;
      if (MaxPool2dImpl* pool = fusable_conv_relu_pool(layer, next, after)) {
        x = pool->forward_conv_relu(static_cast<Conv2dImpl&>(layer), x);  // an error names the conv
        i += 2;
        continue;
      }
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
