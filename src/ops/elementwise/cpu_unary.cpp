// CPU kernels of the unary elementwise ops. Float math ops (exp, log, tanh, gelu, ...) are structs
// with a scalar form (float64) and a vector form (float32 via SLEEF, also used for float16/bfloat16
// after widening); sign-like and integer-capable ops are plain functors over every dtype.
#include <cmath>

#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/loops.h"
#include "ops/elementwise/simd.h"
#include "ops/elementwise/unary_math.h"

namespace nabla::ops {
namespace {

using simd::VF;

/// float32 / float16 / bfloat16 through the vector form: contiguous float32 maps in place; other
/// layouts and 16-bit types go through a small float buffer per block of a row.
template <typename T, typename Op>
void vec_unary(const Tensor& a, const Tensor& out, const Op& op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const T* pa = static_cast<const T*>(a.raw_data());
  T* po = static_cast<T*>(out.raw_data());
  auto f = [&op](VF x) { return op.vec(x); };
  if constexpr (std::is_same_v<T, float>) {
    if (a.is_contiguous() && out.is_contiguous()) {
      cpu::parallel_for(0, n, cpu::kGrainSize,
                        [&](int64_t s, int64_t e) { simd::map(pa + s, po + s, e - s, f); });
      return;
    }
  }
  Shape sa = cpu::broadcast_strides(a, out.shape());
  const Shape* strides[2] = {&out.strides(), &sa};
  auto L = cpu::make_loop<2>(out.shape(), strides);
  cpu::parallel_rows(L, [&](const int64_t* off, const int64_t* s, int64_t len) {
    constexpr int64_t kBlock = 256;
    float xb[kBlock], yb[kBlock];
    for (int64_t k0 = 0; k0 < len; k0 += kBlock) {
      int64_t m = std::min(kBlock, len - k0);
      const T* x = pa + off[1] + k0 * s[1];
      T* o = po + off[0] + k0 * s[0];
      for (int64_t k = 0; k < m; ++k) xb[k] = static_cast<float>(x[k * s[1]]);
      simd::map(xb, yb, m, f);
      for (int64_t k = 0; k < m; ++k) o[k * s[0]] = ew::st<T>(yb[k]);
    }
  });
}

/// Kernel of a float math op: Op(attrs) gives operator()(double) and vec(VF).
template <typename Op>
void math_kernel(const Tensor* in, int, Tensor* out, const Attrs& a) {
  Op op(a);
  ew::visit_float(out[0].dtype(), Op::kName, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, double>)
      ew::unary<double, double>(in[0], out[0], op);
    else
      vec_unary<T>(in[0], out[0], op);
  });
}

using namespace unary_math;

// ---- ops over every dtype ----
template <typename MakeOp>
void any_unary(const Tensor* in, Tensor* out, const MakeOp& make_op) {
  visit_dtype(out[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    ew::unary<T, T>(in[0], out[0], make_op(T{}));
  });
}

void neg_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  any_unary(in, out, [](auto tag) {
    using CT = ew::C<decltype(tag)>;
    return [](CT x) -> CT { return -x; };
  });
}
void abs_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  any_unary(in, out, [](auto tag) {
    using CT = ew::C<decltype(tag)>;
    return [](CT x) -> CT {
      if constexpr (std::is_unsigned_v<CT> || std::is_same_v<CT, bool>)
        return x;
      else
        return std::abs(x);
    };
  });
}
void sign_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  any_unary(in, out, [](auto tag) {
    using CT = ew::C<decltype(tag)>;
    return [](CT x) -> CT {
      if constexpr (std::is_unsigned_v<CT> || std::is_same_v<CT, bool>)
        return x > CT(0);
      else
        return static_cast<CT>((CT(0) < x) - (x < CT(0)));
    };
  });
}
void relu_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  any_unary(in, out, [](auto tag) {
    using CT = ew::C<decltype(tag)>;
    return [](CT x) -> CT {
      if constexpr (std::is_unsigned_v<CT> || std::is_same_v<CT, bool>)
        return x;
      else
        return x < CT(0) ? CT(0) : x;  // NaN stays NaN, like clamp_min
    };
  });
}
void leaky_relu_kernel(const Tensor* in, int, Tensor* out, const Attrs& a) {
  ew::visit_float(out[0].dtype(), "leaky_relu", [&](auto tag) {
    using T = decltype(tag);
    using CT = ew::C<T>;
    CT slope = static_cast<CT>(a.f[0]);
    ew::unary<T, T>(in[0], out[0], [slope](CT x) { return x > CT(0) ? x : x * slope; });
  });
}
void logical_not_kernel(const Tensor* in, int, Tensor* out, const Attrs&) {
  visit_dtype(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using CT = ew::C<T>;
    ew::unary<T, bool>(in[0], out[0], [](CT x) -> bool { return x == CT(0); });
  });
}
// clamp: i0/i1 = has min/max; f0/f1 = bounds; i2/i3 = the bounds as integers (integral dtypes).
void clamp_kernel(const Tensor* in, int, Tensor* out, const Attrs& a) {
  visit_dtype(out[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using CT = ew::C<T>;
    constexpr bool integral = std::is_integral_v<T>;
    CT lo = integral ? static_cast<CT>(a.i[2]) : static_cast<CT>(a.f[0]);
    CT hi = integral ? static_cast<CT>(a.i[3]) : static_cast<CT>(a.f[1]);
    bool has_lo = a.i[0], has_hi = a.i[1];
    // min(max(x, lo), hi) like PyTorch: hi wins when lo > hi; a NaN input fails both comparisons
    // and stays NaN.
    if (has_lo && has_hi)
      ew::unary<T, T>(in[0], out[0], [lo, hi](CT x) -> CT {
        CT y = x < lo ? lo : x;
        return y > hi ? hi : y;
      });
    else if (has_lo)
      ew::unary<T, T>(in[0], out[0], [lo](CT x) -> CT { return x < lo ? lo : x; });
    else
      ew::unary<T, T>(in[0], out[0], [hi](CT x) -> CT { return x > hi ? hi : x; });
  });
}

}  // namespace

void register_elementwise_unary_cpu() {
  define_op(OpId::exp).kernels[kCpu] = math_kernel<Exp>;
  define_op(OpId::log).kernels[kCpu] = math_kernel<Log>;
  define_op(OpId::sqrt).kernels[kCpu] = math_kernel<Sqrt>;
  define_op(OpId::rsqrt).kernels[kCpu] = math_kernel<Rsqrt>;
  define_op(OpId::sigmoid).kernels[kCpu] = math_kernel<Sigmoid>;
  define_op(OpId::tanh).kernels[kCpu] = math_kernel<Tanh>;
  define_op(OpId::erf).kernels[kCpu] = math_kernel<Erf>;
  define_op(OpId::elu).kernels[kCpu] = math_kernel<Elu>;
  define_op(OpId::gelu).kernels[kCpu] = math_kernel<Gelu>;
  define_op(OpId::softplus).kernels[kCpu] = math_kernel<Softplus>;
  define_op(OpId::neg).kernels[kCpu] = neg_kernel;
  define_op(OpId::abs).kernels[kCpu] = abs_kernel;
  define_op(OpId::sign).kernels[kCpu] = sign_kernel;
  define_op(OpId::relu).kernels[kCpu] = relu_kernel;
  define_op(OpId::leaky_relu).kernels[kCpu] = leaky_relu_kernel;
  define_op(OpId::logical_not).kernels[kCpu] = logical_not_kernel;
  define_op(OpId::clamp).kernels[kCpu] = clamp_kernel;
}

}  // namespace nabla::ops
