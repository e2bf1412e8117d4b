// PyTorch's type promotion for elementwise ops (at::native::result_type): tensors with dims decide
// first, then 0-dim tensors, then wrapped numbers (C++ Scalars), each later group only able to
// raise the category (bool < integer < floating), never the width within a category.
//   int64 tensor + 2.5          -> float32 (a float number brings the default float dtype)
//   uint8 tensor + int64 0-dim  -> uint8;   float32 tensor + float64 tensor -> float64
#include "nabla/ops.h"
#include "ops/elementwise/elementwise.h"

namespace nabla {
namespace {

constexpr int kUndef = -1;

int promote_skip_undefined(int a, DType b) {
  return a == kUndef ? static_cast<int>(b) : static_cast<int>(promote_types(static_cast<DType>(a), b));
}

// combine_categories(higher, lower) of ATen: the higher-priority group wins unless the lower one
// brings a higher category (a float among integers, or anything over bool).
int combine_categories(int higher, int lower) {
  if (higher != kUndef && is_floating(static_cast<DType>(higher))) return higher;
  if (higher == static_cast<int>(kBool) || (lower != kUndef && is_floating(static_cast<DType>(lower))))
    return lower == kUndef ? higher : promote_skip_undefined(higher, static_cast<DType>(lower));
  return higher != kUndef ? higher : lower;
}

struct ResultTypeState {
  int dim = kUndef, zero = kUndef, wrapped = kUndef;
  void add_wrapped(DType t) {
    wrapped = promote_skip_undefined(wrapped, is_floating(t) ? default_dtype() : t);
  }
  void add(const Tensor& t) {
    if (t.impl()->is_wrapped_number)
      add_wrapped(t.dtype());
    else if (t.dim() > 0)
      dim = promote_skip_undefined(dim, t.dtype());
    else
      zero = promote_skip_undefined(zero, t.dtype());
  }
  DType finish() const {
    int r = combine_categories(dim, combine_categories(zero, wrapped));
    return r == kUndef ? default_dtype() : static_cast<DType>(r);
  }
};

}  // namespace

DType result_type(std::initializer_list<Tensor> tensors) {
  ResultTypeState s;
  for (const Tensor& t : tensors) s.add(t);
  return s.finish();
}

namespace detail {

DType result_type2(const Tensor& a, const Tensor& b) {
  if (a.dtype() == b.dtype() && !a.impl()->is_wrapped_number && !b.impl()->is_wrapped_number)
    return a.dtype();
  ResultTypeState s;
  s.add(a);
  s.add(b);
  return s.finish();
}

DType result_type_scalar(const Tensor& a, const Scalar& v) {
  ResultTypeState s;
  s.add(a);
  s.add_wrapped(v.dtype());
  return s.finish();
}

Tensor scalar_as(const Scalar& s, DType t, Device device) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = allocate_storage(dtype_size(t), device);
  impl->dtype = t;
  Tensor r(std::move(impl));
  if (!device.is_cpu()) return r.fill_(s);
  visit_dtype(t, [&](auto tag) {
    using T = decltype(tag);
    *r.impl()->data<T>() = s.to<T>();
  });
  return r;
}

}  // namespace detail

Tensor scalar_tensor(const Scalar& s, Device device) {
  Tensor t = detail::scalar_as(s, s.dtype(), device);
  t.impl()->is_wrapped_number = true;
  return t;
}

}  // namespace nabla
