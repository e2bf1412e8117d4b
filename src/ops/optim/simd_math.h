// Internal: float32 vectors for the optimizer updates (update_math.h), with a square root that
// keeps off the divider. Adam, RMSprop and Adagrad take one sqrt and one divide per element;
// vsqrtps and vdivps share the divide unit, which bounds the step while its data sits in L2. Here
// the square root comes from AVX-512's 14-bit estimate refined by one Newton step on the FMA units,
//   sqrt(v) = a + a/2 * (1 - a*r)      a = v*r,  r = rsqrt14(v) ~ 1/sqrt(v)
// (written so that every intermediate stays near 1 or near the result, so denormal v works too),
// within 1 ulp of the correctly rounded root (tests/optim/update_math_test.cpp checks it against
// float64); fixupimm gives IEEE's answer for +-0, +inf, negatives and NaN. The divide stays on the
// divider, correctly rounded, so inf and NaN propagate through it as in PyTorch. The divider then
// does one operation per element and the FMA units the rest, which measured faster on the AVX-512
// Xeon than doing both on either side (bench/optim_step_bench.cpp's note: all-divider 0.33,
// all-FMA 0.29 with 512-bit vectors, this 0.24 ns per Adam parameter), with 256-bit vectors (three
// ports instead of two for the FMA work).
//
// Without AVX-512 (AVX2 only: the 12-bit rsqrt needs a second Newton step and special-case
// compares, so refining it cost more than the divider it saves: 0.36 vs 0.33 ns) the updates use
// the plain formulas, which the compiler vectorises.
//
// Everything sits in an inline namespace named after the instruction set, so translation units
// built for different ones (the tests build one with -mno-avx512f) never share a definition.
#pragma once
#include <cstdint>

#if defined(__AVX512F__) && defined(__AVX512VL__) && !defined(NABLA_OPTIM_NO_SIMD)
#include <immintrin.h>
#define NABLA_OPTIM_SIMD 1
#define NABLA_OPTIM_ISA avx512vl
#else  // NABLA_OPTIM_NO_SIMD: the plain formulas on any machine (benchmarks compare against them)
#define NABLA_OPTIM_SIMD 0
#define NABLA_OPTIM_ISA plain
#endif

namespace nabla::ops::optim_cpu {
inline namespace NABLA_OPTIM_ISA {
namespace simd {

/// Which float32 update math this translation unit uses: "avx512vl" or "plain".
inline const char* isa_name() { return NABLA_OPTIM_SIMD ? "avx512vl" : "plain"; }

#if NABLA_OPTIM_SIMD

constexpr int kWidth = 8;
using V = __m256;
/// The lanes a load/store touches: all of them in the body of a range, the first n in its tail.
using Mask = __mmask8;
inline Mask first_lanes(int64_t n) { return static_cast<Mask>((1u << n) - 1u); }

inline V set1(float x) { return _mm256_set1_ps(x); }
inline V load(const float* p) { return _mm256_loadu_ps(p); }
inline V load(const float* p, Mask k) { return _mm256_maskz_loadu_ps(k, p); }
inline void store(float* p, V x) { _mm256_storeu_ps(p, x); }
inline void store(float* p, V x, Mask k) { _mm256_mask_storeu_ps(p, k, x); }
inline V add(V a, V b) { return _mm256_add_ps(a, b); }
inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }  // a*b + c, rounded once
inline V div(V a, V b) { return _mm256_div_ps(a, b); }            // correctly rounded, IEEE specials
/// max(a, b) that returns b when it is NaN (exp_avg_sq NaN stays NaN in amsgrad's maximum).
inline V max_nan_b(V a, V b) { return _mm256_max_ps(a, b); }

/// sqrt(v) within 1 ulp; IEEE's result for +-0, +inf, negatives and NaN.
inline V sqrt(V v) {
  // (mask_ form: GCC 12 warns about the plain intrinsic's undefined pass-through operand.)
  const V r = _mm256_mask_rsqrt14_ps(v, 0xFF, v);  // relative error < 2^-14, denormal v too
  const V a = _mm256_mul_ps(v, r);
  const V t = _mm256_fnmadd_ps(a, r, _mm256_set1_ps(1.0f));  // 1 - v*r*r: about -2x the error of a
  const V s = _mm256_fmadd_ps(_mm256_mul_ps(a, _mm256_set1_ps(0.5f)), t, a);
  // fixupimm's table, one nibble per class of v: QNaN, SNaN -> NaN(v) (2); +-0 -> v (1); +1 -> 1.0
  // (10); -inf -> NaN (3); +inf -> v (1); negative -> NaN (3); other positive -> s (0).
  return _mm256_fixupimm_ps(s, v, _mm256_set1_epi32(0x0313A122), 0);
}

#endif

}  // namespace simd
}  // namespace NABLA_OPTIM_ISA
}  // namespace nabla::ops::optim_cpu
