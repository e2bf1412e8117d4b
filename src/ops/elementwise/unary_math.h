// Internal: the float math of the unary elementwise ops (exp, log, tanh, gelu, ...) as small
// structs: Op(attrs) gives a scalar form operator()(double) (float64) and a vector form vec(VF)
// (float32 via SLEEF). Shared by the op kernels (cpu_unary.cpp) and the graph's fused elementwise
// loops (fused.cpp), so a fused chain computes bit-identical values.
#pragma once
#include <cmath>

#include "ops/elementwise/simd.h"
#include "ops/registry.h"

namespace nabla::ops::unary_math {

using simd::VF;

struct Exp {
  static constexpr const char* kName = "exp";
  explicit Exp(const Attrs&) {}
  double operator()(double x) const { return std::exp(x); }
  VF vec(VF x) const { return simd::vexp(x); }
};
struct Log {
  static constexpr const char* kName = "log";
  explicit Log(const Attrs&) {}
  double operator()(double x) const { return std::log(x); }
  VF vec(VF x) const { return simd::vlog(x); }
};
struct Sqrt {
  static constexpr const char* kName = "sqrt";
  explicit Sqrt(const Attrs&) {}
  double operator()(double x) const { return std::sqrt(x); }
  VF vec(VF x) const { return simd::vsqrt(x); }
};
struct Rsqrt {
  static constexpr const char* kName = "rsqrt";
  explicit Rsqrt(const Attrs&) {}
  double operator()(double x) const { return 1.0 / std::sqrt(x); }
  VF vec(VF x) const { return simd::vset(1.0f) / simd::vsqrt(x); }
};
struct Sigmoid {
  static constexpr const char* kName = "sigmoid";
  explicit Sigmoid(const Attrs&) {}
  double operator()(double x) const { return 1.0 / (1.0 + std::exp(-x)); }
  VF vec(VF x) const { return simd::vset(1.0f) / (simd::vset(1.0f) + simd::vexp(-x)); }
};
struct Tanh {
  static constexpr const char* kName = "tanh";
  explicit Tanh(const Attrs&) {}
  double operator()(double x) const { return std::tanh(x); }
  VF vec(VF x) const { return simd::vtanh(x); }
};
struct Erf {
  static constexpr const char* kName = "erf";
  explicit Erf(const Attrs&) {}
  double operator()(double x) const { return std::erf(x); }
  VF vec(VF x) const { return simd::verf(x); }
};
// elu: f0 = alpha. x > 0 ? x : alpha * (exp(x) - 1), with expm1 for accuracy near 0.
struct Elu {
  static constexpr const char* kName = "elu";
  double alpha;
  explicit Elu(const Attrs& a) : alpha(a.f[0]) {}
  double operator()(double x) const { return x > 0 ? x : alpha * std::expm1(x); }
  VF vec(VF x) const {
    VF z = simd::vset(0.0f);
    return simd::vsel_gt(x, z, x, simd::vset(static_cast<float>(alpha)) * simd::vexpm1(x));
  }
};
// gelu: i0 = 0 -> x/2 (1 + erf(x / sqrt 2)); i0 = 1 -> x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
struct Gelu {
  static constexpr const char* kName = "gelu";
  static constexpr double kBeta = M_SQRT2 * M_2_SQRTPI * 0.5;
  static constexpr double kKappa = 0.044715;
  bool tanh_form;
  explicit Gelu(const Attrs& a) : tanh_form(a.i[0] != 0) {}
  double operator()(double x) const {
    if (tanh_form) return 0.5 * x * (1 + std::tanh(kBeta * (x + kKappa * x * x * x)));
    return x * 0.5 * (1 + std::erf(x * M_SQRT1_2));
  }
  VF vec(VF x) const {
    VF half = simd::vset(0.5f), one = simd::vset(1.0f);
    if (tanh_form) {
      VF inner =
          simd::vset(static_cast<float>(kBeta)) * (x + simd::vset(static_cast<float>(kKappa)) * (x * x * x));
      return half * x * (one + simd::vtanh(inner));
    }
    return x * half * (one + simd::verf_gelu(x * simd::vset(static_cast<float>(M_SQRT1_2))));
  }
};
// softplus: f0 = beta, f1 = threshold. Linear above the threshold (exp would overflow).
struct Softplus {
  static constexpr const char* kName = "softplus";
  double beta, threshold;
  explicit Softplus(const Attrs& a) : beta(a.f[0]), threshold(a.f[1]) {}
  double operator()(double x) const {
    return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta;
  }
  VF vec(VF x) const {
    VF b = simd::vset(static_cast<float>(beta));
    VF xb = x * b;
    return simd::vsel_gt(xb, simd::vset(static_cast<float>(threshold)), x, simd::vlog1p(simd::vexp(xb)) / b);
  }
};

}  // namespace nabla::ops::unary_math
