// Tensor handle: metadata queries, autograd entry points, conversions.
#include "nabla/tensor.h"

#include "autograd/node.h"
#include "graph/trace.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"
#include "ops/registry.h"

namespace nabla {

int64_t Tensor::size(int64_t dim) const { return shape()[wrap_dim(dim, this->dim(), "size")]; }
int64_t Tensor::stride(int64_t dim) const { return strides()[wrap_dim(dim, this->dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int i = dim() - 1; i >= 0; --i) {
    if (impl_->shape[i] == 1) continue;
    if (impl_->strides[i] != expected) return false;
    expected *= impl_->shape[i];
  }
  return true;
}

template <typename T>
T Tensor::item() const {
  NABLA_CHECK(defined(), "item: tensor is undefined");
  if (graph::active_tracer()) [[unlikely]]
    graph::check_value_read(impl_.get(), "item");
  NABLA_CHECK(numel() == 1, "item: only a one-element tensor can be converted to a number, got shape ",
              shape());
  NABLA_CHECK(device().is_cpu(), "item: tensor is on ", device(), "; call .cpu() first");
  return visit_dtype(dtype(), [&](auto tag) -> T {
    using S = decltype(tag);
    return static_cast<T>(
        static_cast<std::conditional_t<std::is_same_v<S, Half> || std::is_same_v<S, BFloat16>, float, S>>(
            *impl_->data<S>()));
  });
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  if (graph::active_tracer()) [[unlikely]]
    graph::check_value_read(impl_.get(), "to_vector");
  Tensor c = to(dtype_of<T>::value).contiguous();
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}

#define NABLA_INSTANTIATE(T)          \
  template T Tensor::item<T>() const; \
  template std::vector<T> Tensor::to_vector<T>() const;
NABLA_INSTANTIATE(bool)
NABLA_INSTANTIATE(uint8_t)
NABLA_INSTANTIATE(int32_t)
NABLA_INSTANTIATE(int64_t)
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

Tensor& Tensor::set_requires_grad(bool r) {
  NABLA_CHECK(!r || is_floating(dtype()),
              "set_requires_grad: only floating-point tensors can require "
              "gradients, but this tensor has dtype ",
              dtype());
  NABLA_CHECK(is_leaf() || r, "set_requires_grad(false): this tensor is not a leaf; use detach() instead");
  impl_->requires_grad = r;
  return *this;
}

void Tensor::set_grad(const Tensor& g) {
  NABLA_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient has shape ",
              g.defined() ? g.shape() : Shape{}, " but the tensor has shape ", shape());
  impl_->grad = g.impl();
}

// Tensor::backward lives in src/autograd/engine.cpp (the inference library has no engine).

Tensor Tensor::detach() const {
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  impl->dtype = impl_->dtype;
  impl->is_view = impl_->is_view;
  Tensor out(std::move(impl));
  if (graph::Tracer* t = graph::active_tracer()) [[unlikely]]
    t->alias(out, *this);  // same data: the same graph value
  return out;
}

Tensor& Tensor::detach_() {
  impl_->grad_fn.reset();
  impl_->requires_grad = false;
  impl_->output_nr = 0;
  return *this;
}

void Tensor::retain_grad() const {
  NABLA_CHECK(requires_grad(), "retain_grad: the tensor does not require grad");
  if (is_leaf() || impl_->retains_grad) return;
  impl_->retains_grad = true;
  std::weak_ptr<detail::TensorImpl> weak = impl_;
  impl_->grad_fn->pre_hooks.emplace_back(impl_->output_nr, [weak](const Tensor& g) -> Tensor {
    if (auto self = weak.lock()) {
      // Retained gradients are plain values, never part of a graph.
      Tensor d = g.detach();
      self->grad = self->grad ? (Tensor(self->grad) + d).impl() : d.clone().impl();
    }
    return {};
  });
}

void Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  NABLA_CHECK(requires_grad(),
              "register_hook: cannot register a hook on a tensor that does not require grad");
  if (is_leaf())
    impl_->hooks.push_back(std::move(hook));
  else
    impl_->grad_fn->pre_hooks.emplace_back(impl_->output_nr, std::move(hook));
}

Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  ops::Attrs a;
  a.dtype = t;
  return ops::dispatch1(ops::OpId::copy, {*this}, a);
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  detail::throw_error("to: cannot move a tensor from ", device(), " to ", d,
                      ": this build of nabla has no CUDA backend (nabla::cuda::is_available() is false)");
}

Tensor Tensor::to(Device d, DType t) const { return to(d).to(t); }

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  ops::Attrs a;
  a.dtype = dtype();
  return ops::dispatch1(ops::OpId::copy, {*this}, a);
}

Tensor& Tensor::copy_(const Tensor& src) {
  ops::Attrs a;
  a.dtype = dtype();
  Tensor s = src.shape() == shape() ? src : src.expand(shape());
  return ops::dispatch_inplace(ops::OpId::copy, *this, {s}, a);
}

}  // namespace nabla
