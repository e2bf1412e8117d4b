// Tensor factories. Random draws run sequentially on the calling thread, so a seed gives the
// same tensor whatever the thread count.
#include "nabla/creation.h"

#include <cmath>
#include <cstring>

#include "graph/trace.h"
#include "nabla/ops.h"
#include "ops/registry.h"

namespace nabla {
namespace {

Tensor finish(Tensor t, const TensorOptions& opt) {
  if (opt.requires_grad) t.set_requires_grad(true);
  return t;
}

template <typename F>
Tensor generate(const Shape& shape, DType dtype, F&& value_at) {
  Tensor t = empty(shape, dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data_ptr<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
        p[i] = T(static_cast<float>(value_at(i)));
      else
        p[i] = static_cast<T>(value_at(i));
    }
  });
  return t;
}

}  // namespace

Tensor empty(const Shape& shape, TensorOptions opt) {
  for (int64_t s : shape) NABLA_CHECK(s >= 0, "empty: negative dimension in shape ", shape);
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = detail::allocate_storage(shape.numel() * dtype_size(opt.dtype), opt.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = opt.dtype;
  return finish(Tensor(std::move(impl)), opt);
}

Tensor full(const Shape& shape, const Scalar& value, TensorOptions opt) {
  bool rg = opt.requires_grad;
  opt.requires_grad = false;
  Tensor t = empty(shape, opt);
  t.fill_(value);
  return finish(t, {opt.dtype, opt.device, rg});
}
Tensor zeros(const Shape& shape, TensorOptions opt) {
  bool rg = opt.requires_grad;
  opt.requires_grad = false;
  Tensor t = empty(shape, opt);
  std::memset(t.raw_data(), 0, t.nbytes());  // all-zero bits is 0 for every dtype
  return finish(t, {opt.dtype, opt.device, rg});
}
Tensor ones(const Shape& shape, TensorOptions opt) { return full(shape, 1, opt); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), {t.dtype(), t.device()}); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {t.dtype(), t.device()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {t.dtype(), t.device()}); }
Tensor full_like(const Tensor& t, const Scalar& v) { return full(t.shape(), v, {t.dtype(), t.device()}); }

Tensor arange(const Scalar& end) { return arange(0, end, 1); }
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step) {
  bool integral = !start.is_floating() && !end.is_floating() && !step.is_floating();
  double s = start.to_double(), e = end.to_double(), st = step.to_double();
  NABLA_CHECK(st != 0, "arange: step must be nonzero");
  NABLA_CHECK((st > 0 && e >= s) || (st < 0 && e <= s), "arange: the range [", s, ", ", e,
              ") is inconsistent with the step ", st);
  int64_t n = static_cast<int64_t>(std::ceil((e - s) / st));
  if (integral) return generate({n}, kInt64, [&](int64_t i) { return start.to_int() + i * step.to_int(); });
  return generate({n}, default_dtype(), [&](int64_t i) { return s + static_cast<double>(i) * st; });
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions opt) {
  NABLA_CHECK(steps >= 0, "linspace: number of steps must be non-negative, got ", steps);
  double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  // Fill from both ends like PyTorch, so the last value is exactly `end`.
  return finish(generate({steps}, opt.dtype,
                         [&](int64_t i) {
                           return i < steps / 2 ? start + step * static_cast<double>(i)
                                                : end - step * static_cast<double>(steps - 1 - i);
                         }),
                opt);
}

Tensor eye(int64_t n, int64_t m, TensorOptions opt) {
  if (m < 0) m = n;
  NABLA_CHECK(n >= 0, "eye: n must be non-negative, got ", n);
  return finish(generate({n, m}, opt.dtype, [&](int64_t i) { return i / m == i % m ? 1.0 : 0.0; }), opt);
}

Tensor rand(const Shape& shape, TensorOptions opt, Generator* gen) {
  if (graph::active_tracer() && !gen && opt.device == kCPU &&
      (opt.dtype == kFloat32 || opt.dtype == kFloat64)) {
    // Traced: a graph op that draws from the default generator on every run (same sequence).
    for (int64_t s : shape) NABLA_CHECK(s >= 0, "rand: negative dimension in shape ", shape);
    ops::Attrs a;
    a.shape = shape;
    a.dtype = opt.dtype;
    Tensor out;
    ops::dispatch(ops::OpId::rand_uniform, nullptr, 0, a, &out);
    return finish(out, opt);
  }
  graph::check_not_tracing("rand",
                           "random numbers drawn while tracing would be frozen into the graph (only rand "
                           "from the default generator is a graph op); draw outside or run eagerly");
  NABLA_CHECK(is_floating(opt.dtype), "rand: dtype must be floating point, got ", opt.dtype);
  Generator& g = gen ? *gen : default_generator();
  if (opt.dtype == kFloat64)
    return finish(generate(shape, opt.dtype, [&](int64_t) { return g.next_double(); }), opt);
  return finish(generate(shape, opt.dtype, [&](int64_t) { return static_cast<double>(g.next_float()); }),
                opt);
}

Tensor randn(const Shape& shape, TensorOptions opt, Generator* gen) {
  graph::check_not_tracing("randn",
                           "random numbers drawn while tracing would be frozen into the graph (only rand "
                           "from the default generator is a graph op); draw outside or run eagerly");
  NABLA_CHECK(is_floating(opt.dtype), "randn: dtype must be floating point, got ", opt.dtype);
  Generator& g = gen ? *gen : default_generator();
  return finish(generate(shape, opt.dtype, [&](int64_t) { return g.next_normal(); }), opt);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions opt, Generator* gen) {
  graph::check_not_tracing("randint",
                           "random numbers drawn while tracing would be frozen into the graph (only rand "
                           "from the default generator is a graph op); draw outside or run eagerly");
  NABLA_CHECK(high > low, "randint: high (", high, ") must be greater than low (", low, ")");
  Generator& g = gen ? *gen : default_generator();
  uint64_t range = static_cast<uint64_t>(high - low);
  return finish(generate(shape, opt.dtype,
                         [&](int64_t) {
                           return static_cast<double>(low + static_cast<int64_t>(g.next_u64() % range));
                         }),
                opt);
}

Tensor rand_like(const Tensor& t, Generator* gen) { return rand(t.shape(), t.dtype(), gen); }
Tensor randn_like(const Tensor& t, Generator* gen) { return randn(t.shape(), t.dtype(), gen); }

Tensor randperm(int64_t n, Generator* gen) {
  graph::check_not_tracing("randperm",
                           "random numbers drawn while tracing would be frozen into the graph (only rand "
                           "from the default generator is a graph op); draw outside or run eagerly");
  Generator& g = gen ? *gen : default_generator();
  Tensor t = arange(n);
  int64_t* p = t.data_ptr<int64_t>();
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.next_u64() % static_cast<uint64_t>(i + 1)]);
  return t;
}

template <typename T>
Tensor tensor(const std::vector<T>& values, const Shape& shape, std::optional<DType> dtype) {
  NABLA_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "tensor: ", values.size(),
              " values do not fill shape ", shape);
  // Like torch.tensor on Python numbers: floats -> default dtype, ints -> int64.
  DType natural = std::is_floating_point_v<T>                             ? default_dtype()
                  : std::is_same_v<T, bool> || std::is_same_v<T, uint8_t> ? dtype_of<T>::value
                                                                          : kInt64;
  DType t = dtype.value_or(natural);
  return generate(shape, t, [&](int64_t i) { return static_cast<double>(values[i]); });
}
template <typename T>
Tensor tensor(const std::vector<T>& values, std::optional<DType> dtype) {
  return tensor(values, Shape{static_cast<int64_t>(values.size())}, dtype);
}
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows, std::optional<DType> dtype) {
  std::vector<T> flat;
  int64_t cols = rows.size() ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& r : rows) {
    NABLA_CHECK(static_cast<int64_t>(r.size()) == cols, "tensor: rows have different lengths (", cols,
                " and ", r.size(), ")");
    flat.insert(flat.end(), r.begin(), r.end());
  }
  return tensor(flat, Shape{static_cast<int64_t>(rows.size()), cols}, dtype);
}

#define NABLA_INSTANTIATE(T)                                                            \
  template Tensor tensor<T>(const std::vector<T>&, const Shape&, std::optional<DType>); \
  template Tensor tensor<T>(const std::vector<T>&, std::optional<DType>);               \
  template Tensor tensor<T>(std::initializer_list<std::initializer_list<T>>, std::optional<DType>);
NABLA_INSTANTIATE(bool)
NABLA_INSTANTIATE(uint8_t)
NABLA_INSTANTIATE(int32_t)
NABLA_INSTANTIATE(int64_t)
NABLA_INSTANTIATE(float)
NABLA_INSTANTIATE(double)
#undef NABLA_INSTANTIATE

Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter) {
  auto st = std::make_shared<detail::Storage>();
  st->data = data;
  st->nbytes = shape.numel() * dtype_size(dtype);
  if (deleter) {
    st->free_ctx = new std::function<void(void*)>(std::move(deleter));
    st->free_fn = [](void* p, size_t, void* ctx) {
      auto* f = static_cast<std::function<void(void*)>*>(ctx);
      (*f)(p);
      delete f;
    };
  }
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = std::move(st);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor from_buffer(const void* data, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memcpy(t.raw_data(), data, t.nbytes());
  return t;
}

}  // namespace nabla
