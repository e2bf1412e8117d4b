// Internal: loop templates of the elementwise family. A kernel supplies a scalar functor; these
// templates walk the operands: one flat loop when everything is contiguous (the common case, and
// simple enough for the compiler to vectorise), a scalar-operand loop for `x * 2`, and the
// strided/broadcast N-operand loop of cpu_loops.h otherwise. `out` may be any strided view
// (in-place ops pass self), and may alias an input element for element.
#pragma once
#include <type_traits>

#include "ops/cpu_loops.h"

namespace nabla::ops::ew {

template <typename T>
using C = cpu::compute_t<T>;

/// Storage -> compute type (Half/BFloat16 -> float).
template <typename T>
inline C<T> ld(T v) {
  return static_cast<C<T>>(v);
}
/// Compute -> storage type.
template <typename O, typename V>
inline O st(V v) {
  if constexpr (std::is_same_v<O, Half> || std::is_same_v<O, BFloat16>)
    return O(static_cast<float>(v));
  else
    return static_cast<O>(v);
}

/// Calls f(T{}) for the floating dtypes; throws naming `op` for the others.
template <typename F>
decltype(auto) visit_float(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float16:
      return f(Half{});
    case DType::BFloat16:
      return f(BFloat16{});
    case DType::Float32:
      return f(float{});
    case DType::Float64:
      return f(double{});
    default:
      break;
  }
  detail::throw_error(op, ": expected a floating-point tensor, but got ", t);
}

// No __restrict here: in-place ops alias out with an input, and GCC's runtime alias check keeps the
// vector path for exact aliasing (measured: same speed as the restrict version).
template <typename T, typename O, typename Op>
inline void flat2(const T* a, const T* b, O* o, int64_t n, const Op& op) {
  for (int64_t i = 0; i < n; ++i) o[i] = st<O>(op(ld(a[i]), ld(b[i])));
}
template <typename T, typename O, typename Op>
inline void flat2_scalar_b(const T* a, C<T> b, O* o, int64_t n, const Op& op) {
  for (int64_t i = 0; i < n; ++i) o[i] = st<O>(op(ld(a[i]), b));
}
template <typename T, typename O, typename Op>
inline void flat2_scalar_a(C<T> a, const T* b, O* o, int64_t n, const Op& op) {
  for (int64_t i = 0; i < n; ++i) o[i] = st<O>(op(a, ld(b[i])));
}

/// True when t covers `n` elements laid out like a contiguous tensor of the output's shape.
inline bool dense(const Tensor& t, int64_t n) { return t.numel() == n && t.is_contiguous(); }

/// out = op(a, b) elementwise with broadcasting; a and b hold T, out holds O.
template <typename T, typename O, typename Op>
void binary(const Tensor& a, const Tensor& b, const Tensor& out, const Op& op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  O* po = static_cast<O*>(out.raw_data());
  if (out.is_contiguous()) {
    bool da = dense(a, n), db = dense(b, n);
    if (da && db) {
      if (n < cpu::kGrainSize) return flat2(pa, pb, po, n, op);
      return cpu::parallel_for(0, n, cpu::kGrainSize,
                               [&](int64_t s, int64_t e) { flat2(pa + s, pb + s, po + s, e - s, op); });
    }
    if (da && b.numel() == 1) {
      C<T> sb = ld(*pb);
      return cpu::parallel_for(0, n, cpu::kGrainSize,
                               [&](int64_t s, int64_t e) { flat2_scalar_b(pa + s, sb, po + s, e - s, op); });
    }
    if (db && a.numel() == 1) {
      C<T> sa = ld(*pa);
      return cpu::parallel_for(0, n, cpu::kGrainSize,
                               [&](int64_t s, int64_t e) { flat2_scalar_a(sa, pb + s, po + s, e - s, op); });
    }
  }
  Shape sa = cpu::broadcast_strides(a, out.shape()), sb = cpu::broadcast_strides(b, out.shape());
  const Shape* strides[3] = {&out.strides(), &sa, &sb};
  auto L = cpu::make_loop<3>(out.shape(), strides);
  cpu::parallel_rows(L, [&](const int64_t* off, const int64_t* s, int64_t len) {
    O* o = po + off[0];
    const T* x = pa + off[1];
    const T* y = pb + off[2];
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) return flat2(x, y, o, len, op);
    if (s[0] == 1 && s[1] == 1 && s[2] == 0) return flat2_scalar_b(x, ld(*y), o, len, op);
    if (s[0] == 1 && s[1] == 0 && s[2] == 1) return flat2_scalar_a(ld(*x), y, o, len, op);
    for (int64_t k = 0; k < len; ++k) o[k * s[0]] = st<O>(op(ld(x[k * s[1]]), ld(y[k * s[2]])));
  });
}

/// out = op(a) elementwise; a holds T, out holds O (same shape).
template <typename T, typename O, typename Op>
void unary(const Tensor& a, const Tensor& out, const Op& op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const T* pa = static_cast<const T*>(a.raw_data());
  O* po = static_cast<O*>(out.raw_data());
  if (out.is_contiguous() && a.is_contiguous()) {
    return cpu::parallel_for(0, n, cpu::kGrainSize, [&](int64_t s, int64_t e) {
      const T* x = pa + s;
      O* o = po + s;
      for (int64_t i = 0; i < e - s; ++i) o[i] = st<O>(op(ld(x[i])));
    });
  }
  Shape sa = cpu::broadcast_strides(a, out.shape());
  const Shape* strides[2] = {&out.strides(), &sa};
  auto L = cpu::make_loop<2>(out.shape(), strides);
  cpu::parallel_rows(L, [&](const int64_t* off, const int64_t* s, int64_t len) {
    O* o = po + off[0];
    const T* x = pa + off[1];
    for (int64_t k = 0; k < len; ++k) o[k * s[0]] = st<O>(op(ld(x[k * s[1]])));
  });
}

// One contiguous run of select; a and b each step by 1 or 0 (a broadcast scalar). Both values
// are loaded unconditionally and the pointers do not alias, so each case vectorises to blends
// (g++ 12 vectorises a uint8_t condition but not a bool one).
template <typename T>
void select_run_impl(T* __restrict o, const uint8_t* __restrict c, const T* __restrict x, int64_t sx,
                     const T* __restrict y, int64_t sy, int64_t len) {
  if (sx == 1 && sy == 1) {
    for (int64_t k = 0; k < len; ++k) {
      T a = x[k], b = y[k];
      o[k] = c[k] ? a : b;
    }
  } else if (sx == 1) {
    const T b = *y;
    for (int64_t k = 0; k < len; ++k) {
      T a = x[k];
      o[k] = c[k] ? a : b;
    }
  } else if (sy == 1) {
    const T a = *x;
    for (int64_t k = 0; k < len; ++k) {
      T b = y[k];
      o[k] = c[k] ? a : b;
    }
  } else {
    const T a = *x, b = *y;
    for (int64_t k = 0; k < len; ++k) o[k] = c[k] ? a : b;
  }
}
template <typename T>
void select_run(T* o, const bool* c, const T* x, int64_t sx, const T* y, int64_t sy, int64_t len) {
  // The output is a fresh buffer, or (masked_fill_ through dispatch_inplace) exactly the third
  // operand: element k is read before it is written, so __restrict's vector code stays correct.
  select_run_impl<T>(o, reinterpret_cast<const uint8_t*>(c), x, sx, y, sy, len);
}

/// out = cond ? a : b with all three broadcast to out's shape (cond holds bool).
template <typename T>
void select(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const bool* pc = static_cast<const bool*>(cond.raw_data());
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* po = static_cast<T*>(out.raw_data());
  Shape sc = cpu::broadcast_strides(cond, out.shape()), sa = cpu::broadcast_strides(a, out.shape()),
        sb = cpu::broadcast_strides(b, out.shape());
  const Shape* strides[4] = {&out.strides(), &sc, &sa, &sb};
  auto L = cpu::make_loop<4>(out.shape(), strides);
  cpu::parallel_rows(L, [&](const int64_t* off, const int64_t* s, int64_t len) {
    T* o = po + off[0];
    const bool* c = pc + off[1];
    const T* x = pa + off[2];
    const T* y = pb + off[3];
    // Contiguous runs, possibly against a broadcast scalar (ReLU's backward: where(y > 0, g, 0)):
    // unit strides let the compiler turn the choice into vector blends. The strided fallback
    // below branches per element, ~5 ns each on random masks (10% of the MLP training step).
    if (s[0] == 1 && s[1] == 1 && s[2] <= 1 && s[3] <= 1) return select_run<T>(o, c, x, s[2], y, s[3], len);
    for (int64_t k = 0; k < len; ++k) o[k * s[0]] = c[k * s[1]] ? x[k * s[2]] : y[k * s[3]];
  });
}

}  // namespace nabla::ops::ew
