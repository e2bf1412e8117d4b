// Internal: float32 vectors for the optimizer updates (update_math.h), with a square root and a
// division that keep off the divider. Adam, RMSprop and Adagrad take one sqrt and one divide per
// element; vsqrtps and vdivps share the divide unit (~22 cycles per 16 floats on an AVX-512 Xeon),
// which bounds the step while its data sits in L2. Here both come from the hardware estimates
// (rsqrt14/rcp14, or the 12-bit rsqrt/rcp on AVX2) refined with FMAs:
//   sqrt(v) = a + a/2 * (1 - a*r)      a = v*r,  r ~ 1/sqrt(v)
//   n / d   = q + q * (1 - d*y)        q = n*y,  y ~ 1/d
// (one Newton step each, written so that every intermediate stays near 1 or near the result:
// Markstein's residual n - d*q would be denormal, hence imprecise, for tiny n such as a dead unit's
// exp_avg).
// Both stay within 1 ulp of the correctly rounded result (tests/optim/update_math_test.cpp checks
// against float64). Inputs where the estimates break down (v = 0, inf, negative or NaN; a quotient
// that comes out inf or NaN, 1/d denormal) take IEEE's answer: fixupimm for the square root, and the
// divider on just those lanes for the quotient, so inf and NaN propagate as in PyTorch.
//
// Everything sits in an inline namespace named after the instruction set, so translation units
// built for different ones (the tests build one with -mno-avx512f) never share a definition.
#pragma once
#include <cstdint>

#if defined(NABLA_OPTIM_NO_SIMD)  // the plain formulas (benchmarks compare against them)
#define NABLA_OPTIM_SIMD 0
#define NABLA_OPTIM_ISA scalar
#elif defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>
#define NABLA_OPTIM_SIMD 16
#define NABLA_OPTIM_ISA avx512
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define NABLA_OPTIM_SIMD 8
#define NABLA_OPTIM_ISA avx2
#else
#define NABLA_OPTIM_SIMD 0
#define NABLA_OPTIM_ISA scalar
#endif

namespace nabla::ops::optim_cpu {
inline namespace NABLA_OPTIM_ISA {
namespace simd {

/// Which float32 update math this translation unit uses (the tests print it).
inline const char* isa_name() {
#if NABLA_OPTIM_SIMD == 16
  return "avx512";
#elif NABLA_OPTIM_SIMD == 8
  return "avx2";
#else
  return "scalar";
#endif
}

#if NABLA_OPTIM_SIMD == 16

constexpr int kWidth = 16;
using V = __m512;
/// The lanes a load/store touches: all of them in the body of a range, the first n in its tail.
using Mask = __mmask16;
inline Mask first_lanes(int64_t n) { return static_cast<Mask>((1u << n) - 1u); }

inline V set1(float x) { return _mm512_set1_ps(x); }
inline V load(const float* p) { return _mm512_loadu_ps(p); }
inline V load(const float* p, Mask k) { return _mm512_maskz_loadu_ps(k, p); }
inline void store(float* p, V x) { _mm512_storeu_ps(p, x); }
inline void store(float* p, V x, Mask k) { _mm512_mask_storeu_ps(p, k, x); }
inline V add(V a, V b) { return _mm512_add_ps(a, b); }
inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }  // a*b + c, rounded once
/// max(a, b) that returns b when it is NaN (exp_avg_sq NaN stays NaN in amsgrad's maximum).
inline V max_nan_b(V a, V b) {
  return _mm512_mask_max_ps(b, 0xFFFF, a, b);
}  // (mask_ forms here and below: GCC 12 warns about the plain ones' undefined pass-through)

/// sqrt(v) within 1 ulp; sqrt's IEEE result for 0, -0, +inf, negatives and NaN.
inline V sqrt(V v) {
  const V r = _mm512_mask_rsqrt14_ps(v, 0xFFFF, v);  // error < 2^-14, denormals too
  const V a = _mm512_mul_ps(v, r);
  const V t = _mm512_fnmadd_ps(a, r, _mm512_set1_ps(1.0f));  // 1 - v*r*r ~ -2 * error of a
  const V s = _mm512_fmadd_ps(_mm512_mul_ps(a, _mm512_set1_ps(0.5f)), t, a);
  // fixupimm's table, one nibble per class of v: QNaN, SNaN -> NaN(v) (2); +-0 -> v (1); +1 -> 1.0
  // (10); -inf -> NaN (3); +inf -> v (1); negative -> NaN (3); other positive -> s (0).
  return _mm512_fixupimm_ps(s, v, _mm512_set1_epi32(0x0313A122), 0);
}

/// n / d within 1 ulp (IEEE's quotient wherever the estimate cannot give it).
inline V div(V n, V d) {
  const V y = _mm512_mask_rcp14_ps(d, 0xFFFF, d);
  const V q0 = _mm512_mul_ps(n, y);
  const V q = _mm512_fmadd_ps(q0, _mm512_fnmadd_ps(d, y, _mm512_set1_ps(1.0f)), q0);
  // q inf or NaN: d = 0, inf or NaN, n inf or NaN, or n*y overflowed. y denormal (|d| > 2^126): too
  // few bits for the step. Those lanes (none in a normal step) take the divider.
  const Mask bad = _mm512_fpclass_ps_mask(q, 0x99) | _mm512_fpclass_ps_mask(y, 0x20);
  if (__builtin_expect(bad != 0, 0)) return _mm512_mask_div_ps(q, bad, n, d);
  return q;
}

#elif NABLA_OPTIM_SIMD == 8

constexpr int kWidth = 8;
using V = __m256;
using Mask = __m256i;
inline Mask first_lanes(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline V set1(float x) { return _mm256_set1_ps(x); }
inline V load(const float* p) { return _mm256_loadu_ps(p); }
inline V load(const float* p, Mask k) { return _mm256_maskload_ps(p, k); }
inline void store(float* p, V x) { _mm256_storeu_ps(p, x); }
inline void store(float* p, V x, Mask k) { _mm256_maskstore_ps(p, k, x); }
inline V add(V a, V b) { return _mm256_add_ps(a, b); }
inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V max_nan_b(V a, V b) { return _mm256_max_ps(a, b); }

/// sqrt(v) within 1 ulp; sqrt's IEEE result for 0, -0, +inf, negatives, NaN and denormals.
inline V sqrt(V v) {
  const V one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(0.5f);
  // The 12-bit estimate (denormals read as 0, so v is clamped to the smallest normal; v = 0 then
  // gives a = 0 and s = 0) takes one Newton step on 1/sqrt(v) before the one on sqrt(v).
  V r = _mm256_rsqrt_ps(_mm256_max_ps(v, _mm256_set1_ps(1.17549435e-38f)));
  r = _mm256_fmadd_ps(_mm256_mul_ps(r, half), _mm256_fnmadd_ps(_mm256_mul_ps(v, r), r, one), r);
  const V a = _mm256_mul_ps(v, r);
  const V s = _mm256_fmadd_ps(_mm256_mul_ps(a, half), _mm256_fnmadd_ps(a, r, one), a);
  // Denormal, negative (max() hid them) and +inf (a = inf * 0) v: sqrt on the divider.
  const V lo = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ),
                             _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_OQ));
  const V bad = _mm256_or_ps(lo, _mm256_cmp_ps(v, _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ));
  if (__builtin_expect(_mm256_movemask_ps(bad) != 0, 0)) return _mm256_blendv_ps(s, _mm256_sqrt_ps(v), bad);
  return s;
}

/// n / d within 1 ulp (IEEE's quotient wherever the estimate cannot give it).
inline V div(V n, V d) {
  const V one = _mm256_set1_ps(1.0f);
  V y = _mm256_rcp_ps(d);  // 12 bits: one Newton step
  y = _mm256_fmadd_ps(_mm256_fnmadd_ps(d, y, one), y, y);
  const V q0 = _mm256_mul_ps(n, y);
  const V q = _mm256_fmadd_ps(q0, _mm256_fnmadd_ps(d, y, one), q0);
  // q inf or NaN (d = 0, inf or NaN, denormal d, n inf or NaN, overflow) or y = 0 (|d| > ~2^126,
  // where rcp flushes): the divider.
  const V abs_q = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), q);
  const V bad = _mm256_or_ps(_mm256_cmp_ps(abs_q, _mm256_set1_ps(3.40282347e38f), _CMP_NLE_UQ),
                             _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_EQ_OQ));
  if (__builtin_expect(_mm256_movemask_ps(bad) != 0, 0)) return _mm256_blendv_ps(q, _mm256_div_ps(n, d), bad);
  return q;
}

#endif

}  // namespace simd
}  // namespace NABLA_OPTIM_ISA
}  // namespace nabla::ops::optim_cpu
