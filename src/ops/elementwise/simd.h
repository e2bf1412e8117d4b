// Internal: float32 SIMD for the transcendental elementwise ops (exp, log, tanh, erf, ...), built on
// SLEEF (Debian's libsleef-dev; 1-ulp "u10" variants). The vector width follows the build's target
// (-march): AVX-512 -> 16 lanes, AVX2 -> 8; without either, one-lane "vectors" over the C library.
// GCC's vector extensions give +, -, *, /, comparisons and ?: on __m256/__m512.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#include <sleef.h>
#endif

namespace nabla::ops::simd {

#if defined(__AVX512F__)
constexpr bool kHasVec = true;
constexpr int kW = 16;
using VF = __m512;
inline VF vload(const float* p) { return _mm512_loadu_ps(p); }
inline void vstore(float* p, VF v) { _mm512_storeu_ps(p, v); }
inline VF vset(float v) { return _mm512_set1_ps(v); }
// The masked form: _mm512_sqrt_ps trips a GCC 12 false -Wmaybe-uninitialized.
inline VF vsqrt(VF x) { return _mm512_mask_sqrt_ps(x, 0xFFFF, x); }
inline VF vexp(VF x) { return Sleef_expf16_u10avx512f(x); }
inline VF vexpm1(VF x) { return Sleef_expm1f16_u10avx512f(x); }
inline VF vlog(VF x) { return Sleef_logf16_u10avx512f(x); }
inline VF vlog1p(VF x) { return Sleef_log1pf16_u10avx512f(x); }
inline VF vtanh(VF x) { return Sleef_tanhf16_u10avx512f(x); }
inline VF verf(VF x) { return Sleef_erff16_u10avx512f(x); }
#elif defined(__AVX2__)
constexpr bool kHasVec = true;
constexpr int kW = 8;
using VF = __m256;
inline VF vload(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore(float* p, VF v) { _mm256_storeu_ps(p, v); }
inline VF vset(float v) { return _mm256_set1_ps(v); }
inline VF vsqrt(VF x) { return _mm256_sqrt_ps(x); }
inline VF vexp(VF x) { return Sleef_expf8_u10avx2(x); }
inline VF vexpm1(VF x) { return Sleef_expm1f8_u10avx2(x); }
inline VF vlog(VF x) { return Sleef_logf8_u10avx2(x); }
inline VF vlog1p(VF x) { return Sleef_log1pf8_u10avx2(x); }
inline VF vtanh(VF x) { return Sleef_tanhf8_u10avx2(x); }
inline VF verf(VF x) { return Sleef_erff8_u10avx2(x); }
#else
// Portable build: "vectors" of one float through the C library, so the kernels stay the same.
constexpr bool kHasVec = false;
constexpr int kW = 1;
using VF = float;
inline VF vload(const float* p) { return *p; }
inline void vstore(float* p, VF v) { *p = v; }
inline VF vset(float v) { return v; }
inline VF vsqrt(VF x) { return std::sqrt(x); }
inline VF vexp(VF x) { return std::exp(x); }
inline VF vexpm1(VF x) { return std::expm1(x); }
inline VF vlog(VF x) { return std::log(x); }
inline VF vlog1p(VF x) { return std::log1p(x); }
inline VF vtanh(VF x) { return std::tanh(x); }
inline VF verf(VF x) { return std::erf(x); }
#endif

/// Elementwise x > y ? a : b on vectors.
inline VF vsel_gt(VF x, VF y, VF a, VF b) { return x > y ? a : b; }

/// erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7): the form PyTorch's vectorised GELU
/// uses, ~4x cheaper than SLEEF's erf. Only for gelu, where the absolute error is what counts;
/// nabla::erf itself uses SLEEF's 1-ulp erf.
inline VF verf_gelu(VF x) {
  VF zero = vset(0.0f), one = vset(1.0f);
  VF ax = x < zero ? -x : x;
  VF t = one / (vset(0.3275911f) * ax + one);
  VF r =
      (((vset(1.061405429f) * t + vset(-1.453152027f)) * t + vset(1.421413741f)) * t + vset(-0.284496736f)) *
          t +
      vset(0.254829592f);
  VF y = one - r * t * vexp(-(x * x));
  return x < zero ? -y : y;
}

/// y[i] = f(x[i]) for n floats. The tail goes through a padded buffer with the same vector code,
/// so an element's result never depends on where a row or a thread's range starts (results are
/// identical for any thread count and any layout).
template <typename F>
inline void map(const float* x, float* y, int64_t n, const F& f) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) vstore(y + i, f(vload(x + i)));
  if (i < n) {
    float buf[kW] = {};
    std::memcpy(buf, x + i, (n - i) * sizeof(float));
    vstore(buf, f(vload(buf)));
    std::memcpy(y + i, buf, (n - i) * sizeof(float));
  }
}

}  // namespace nabla::ops::simd
