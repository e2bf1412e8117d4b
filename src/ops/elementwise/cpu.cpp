// CPU kernels of the binary elementwise ops, where and fill. Each kernel is a scalar functor handed
// to the loop templates of loops.h; inputs arrive with the op's dtype (the public functions cast).
#include <cmath>

#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/loops.h"

namespace nabla::ops {
namespace {

template <typename T>
constexpr bool kIntegral = std::is_integral_v<T>;  // bool and the integer types

/// Integer power by squaring; negative exponents follow PyTorch (1 and -1 stay, others -> 0).
template <typename T>
T int_pow(T base, T e) {
  if constexpr (std::is_same_v<T, bool>) {
    return base || !e;
  } else {
    if constexpr (std::is_signed_v<T>) {
      if (e < 0) {
        if (base == 1) return 1;
        if (base == -1) return (e & 1) ? T(-1) : T(1);
        return 0;
      }
    }
    // Unsigned arithmetic: wraps on overflow like PyTorch's kernels, without signed-overflow UB.
    using U = std::make_unsigned_t<decltype(+base)>;
    U r = 1, b = static_cast<U>(base);
    while (e) {
      if (e & 1) r *= b;
      e >>= 1;
      if (e) b *= b;
    }
    return static_cast<T>(r);
  }
}

// Binary kernel over every dtype: out (same dtype as the inputs) = f(x, y).
template <typename MakeOp>
void same_type_binary(const Tensor* in, Tensor* out, const MakeOp& make_op) {
  visit_dtype(out[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    ew::binary<T, T>(in[0], in[1], out[0], make_op(T{}));
  });
}

// add/sub: i0 = 1 when alpha != 1, with alpha in f0 (and in i1 for integral dtypes).
template <int Sign>
void add_kernel(const Tensor* in, int, Tensor* out, const Attrs& a) {
  visit_dtype(out[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using CT = ew::C<T>;
    if (!a.i[0]) {
      if constexpr (Sign > 0)
        ew::binary<T, T>(in[0], in[1], out[0], [](CT x, CT y) { return x + y; });
      else
        ew::binary<T, T>(in[0], in[1], out[0], [](CT x, CT y) { return x - y; });
      return;
    }
    CT alpha = kIntegral<T> ? static_cast<CT>(a.i[1]) : static_cast<CT>(a.f[0]);
    if constexpr (Sign > 0)
      ew::binary<T, T>(in[0], in[1], out[0], [alpha](CT x, CT y) { return x + alpha * y; });
    else
      ew::binary<T, T>(in[0], in[1], out[0], [alpha](CT x, CT y) { return x - alpha * y; });
  });
}

void mul_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  same_type_binary(in, out, [](auto tag) {
    using CT = ew::C<decltype(tag)>;
    return [](CT x, CT y) { return x * y; };
  });
}

void div_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  ew::visit_float(out[0].dtype(), "div", [&](auto tag) {
    using T = decltype(tag);
    using CT = ew::C<T>;
    ew::binary<T, T>(in[0], in[1], out[0], [](CT x, CT y) { return x / y; });
  });
}

void pow_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  same_type_binary(in, out, [](auto tag) {
    using T = decltype(tag);
    using CT = ew::C<T>;
    return [](CT x, CT y) -> CT {
      if constexpr (kIntegral<T>)
        return int_pow<T>(x, y);
      else
        return std::pow(x, y);
    };
  });
}

// NaN-propagating max/min, like torch.maximum / torch.minimum.
template <bool Max>
void extremum_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  same_type_binary(in, out, [](auto tag) {
    using CT = ew::C<decltype(tag)>;
    return [](CT x, CT y) -> CT {
      if (x != x) return x;
      if (y != y) return y;
      if constexpr (Max)
        return x > y ? x : y;
      else
        return x < y ? x : y;
    };
  });
}

// pow_scalar: f0 = exponent. The small exponents take the shortcuts PyTorch takes (x*x, sqrt, ...).
void pow_scalar_kernel(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const double e = a.f[0];
  visit_dtype(out[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using CT = ew::C<T>;
    const Tensor& x = in[0];
    const Tensor& o = out[0];
    if constexpr (kIntegral<T>) {
      T ei = static_cast<T>(static_cast<int64_t>(e));
      ew::unary<T, T>(x, o, [ei](CT v) { return int_pow<T>(v, ei); });
    } else if (e == 1) {
      ew::unary<T, T>(x, o, [](CT v) { return v; });
    } else if (e == 2) {
      ew::unary<T, T>(x, o, [](CT v) { return v * v; });
    } else if (e == 3) {
      ew::unary<T, T>(x, o, [](CT v) { return v * v * v; });
    } else if (e == 0.5) {
      ew::unary<T, T>(x, o, [](CT v) { return std::sqrt(v); });
    } else if (e == -0.5) {
      ew::unary<T, T>(x, o, [](CT v) { return CT(1) / std::sqrt(v); });
    } else if (e == -1) {
      ew::unary<T, T>(x, o, [](CT v) { return CT(1) / v; });
    } else if (e == -2) {
      ew::unary<T, T>(x, o, [](CT v) { return CT(1) / (v * v); });
    } else {
      CT ec = static_cast<CT>(e);
      ew::unary<T, T>(x, o, [ec](CT v) { return std::pow(v, ec); });
    }
  });
}

enum class Cmp { eq, ne, lt, le, gt, ge };
template <Cmp K>
void compare_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  visit_dtype(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using CT = ew::C<T>;
    ew::binary<T, bool>(in[0], in[1], out[0], [](CT x, CT y) -> bool {
      if constexpr (K == Cmp::eq) return x == y;
      if constexpr (K == Cmp::ne) return x != y;
      if constexpr (K == Cmp::lt) return x < y;
      if constexpr (K == Cmp::le) return x <= y;
      if constexpr (K == Cmp::gt) return x > y;
      if constexpr (K == Cmp::ge) return x >= y;
    });
  });
}

void where_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  visit_dtype(out[0].dtype(), [&](auto tag) { ew::select<decltype(tag)>(in[0], in[1], in[2], out[0]); });
}

// fill: f0 = value; i0 = 1 when the value is an integer, held exactly in i1.
void fill_kernel(const Tensor*, int, Tensor* out, const Attrs& a) {
  const Tensor& t = out[0];
  if (t.numel() == 0) return;
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T v = kIntegral<T> && a.i[0] ? ew::st<T>(a.i[1]) : ew::st<T>(a.f[0]);
    T* p = static_cast<T*>(t.raw_data());
    const Shape* strides[1] = {&t.strides()};
    auto L = cpu::make_loop<1>(t.shape(), strides);
    cpu::parallel_rows(L, [&](const int64_t* off, const int64_t* s, int64_t len) {
      T* o = p + off[0];
      if (s[0] == 1) {
        for (int64_t k = 0; k < len; ++k) o[k] = v;
      } else {
        for (int64_t k = 0; k < len; ++k) o[k * s[0]] = v;
      }
    });
  });
}

}  // namespace

void register_elementwise_binary_cpu() {
  define_op(OpId::add).kernels[kCpu] = add_kernel<1>;
  define_op(OpId::sub).kernels[kCpu] = add_kernel<-1>;
  define_op(OpId::mul).kernels[kCpu] = mul_kernel;
  define_op(OpId::div).kernels[kCpu] = div_kernel;
  define_op(OpId::pow).kernels[kCpu] = pow_kernel;
  define_op(OpId::pow_scalar).kernels[kCpu] = pow_scalar_kernel;
  define_op(OpId::maximum).kernels[kCpu] = extremum_kernel<true>;
  define_op(OpId::minimum).kernels[kCpu] = extremum_kernel<false>;
  define_op(OpId::eq).kernels[kCpu] = compare_kernel<Cmp::eq>;
  define_op(OpId::ne).kernels[kCpu] = compare_kernel<Cmp::ne>;
  define_op(OpId::lt).kernels[kCpu] = compare_kernel<Cmp::lt>;
  define_op(OpId::le).kernels[kCpu] = compare_kernel<Cmp::le>;
  define_op(OpId::gt).kernels[kCpu] = compare_kernel<Cmp::gt>;
  define_op(OpId::ge).kernels[kCpu] = compare_kernel<Cmp::ge>;
  define_op(OpId::where).kernels[kCpu] = where_kernel;
  define_op(OpId::fill).kernels[kCpu] = fill_kernel;
}

}  // namespace nabla::ops
