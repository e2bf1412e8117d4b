// Internal: the per-element updates of Adam/AdamW, RMSprop, Adagrad and SGD over one range [begin, end)
// of a parameter (PyTorch 1.13's _single_tensor_* formulas). The kernels in this folder split a
// parameter into ranges across threads; anything else that runs an update over part of a
// parameter (a fused graph node) calls these same functions.
//
// float64 runs the plain formulas (sqrt and divide on the divider, correctly rounded), as does
// float32 without AVX-512. float32 with AVX-512 takes the square root from the FMA units
// (simd_math.h), within 1 ulp of the correctly rounded root, so each update is within a few ulp of
// PyTorch's, not always bit-for-bit. Every multiply-add is an explicit fused one (madd; PyTorch's
// add-with-alpha fuses the same product), so the plain loops and the vector body round alike.
// Every element of a range, the tail included (masked loads and stores in the vector path), goes
// through the same arithmetic, so results do not depend on where ranges are split, hence not on
// the thread count (tests/optim/update_math_checks.h splits ranges at arbitrary points).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ops/optim/simd_math.h"

namespace nabla::ops::optim_cpu {

enum class Decay { kNone, kL2, kDecoupled };

template <typename T>
struct AdamConsts {
  T b1, omb1, b2, omb2, wd, eps, neg_step, inv_bc2, decay;
  // PyTorch divides by bias_correction2_sqrt; multiplying by its reciprocal (rounded once, in
  // double) differs by at most an ulp and takes a divide per element off the divider.
};

template <typename T>
struct RMSpropConsts {
  T neg_lr, alpha, oma, eps, wd, mom;
};

inline namespace NABLA_OPTIM_ISA {

/// a*b + c. With FMA hardware always one fused operation: left to itself the compiler picks which
/// product of an expression like x*y + z*w to fuse, and may pick differently in a vectorised loop
/// body than in its scalar remainder, which would make results depend on where a range is split.
template <typename T>
inline T madd(T a, T b, T c) {
#if defined(__FMA__)
  return std::fma(a, b, c);
#else
  return a * b + c;  // (no fused multiply-add to choose)
#endif
}

/// Runs body(i, mask) over [begin, end) a vector at a time: full vectors, then the tail with a
/// lane mask. One body for both, so every element gets the same arithmetic.
#if NABLA_OPTIM_SIMD
template <typename F>
inline void for_each_vector(int64_t begin, int64_t end, const F& body) {
  int64_t i = begin;
  for (; i + simd::kWidth <= end; i += simd::kWidth) body.template operator()<false>(i, simd::Mask{});
  if (i < end) body.template operator()<true>(i, simd::first_lanes(end - i));
}

template <bool kTail>
inline simd::V vload(const float* p, simd::Mask k) {
  if constexpr (kTail) return simd::load(p, k);
  return simd::load(p);
}

template <bool kTail>
inline void vstore(float* p, simd::V x, simd::Mask k) {
  if constexpr (kTail)
    simd::store(p, x, k);
  else
    simd::store(p, x);
}
#endif

// Plain functions with __restrict parameters (lambda captures lose them), so the loops vectorise.
// The squared gradient is scaled as (c * g) * g, in PyTorch's addcmul order: a gradient whose square
// overflows float32 still gives a finite moment when c * g * g is finite.

template <typename T, Decay kDecay, bool kAmsgrad>
void adam_range(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, T* __restrict vmax,
                int64_t begin, int64_t end, const AdamConsts<T> c) {
#if NABLA_OPTIM_SIMD
  if constexpr (std::is_same_v<T, float>) {
    using namespace simd;
    const V b1 = set1(c.b1), omb1 = set1(c.omb1), b2 = set1(c.b2), omb2 = set1(c.omb2), wd = set1(c.wd),
            eps = set1(c.eps), neg_step = set1(c.neg_step), inv_bc2 = set1(c.inv_bc2), decay = set1(c.decay);
    for_each_vector(begin, end, [&]<bool kTail>(int64_t i, Mask k) {
      V pi = vload<kTail>(p + i, k), gi = vload<kTail>(g + i, k);
      if constexpr (kDecay == Decay::kL2) gi = fma(wd, pi, gi);
      if constexpr (kDecay == Decay::kDecoupled) pi = mul(pi, decay);
      const V mi = fma(omb1, gi, mul(vload<kTail>(m + i, k), b1));
      V vi = fma(mul(omb2, gi), gi, mul(vload<kTail>(v + i, k), b2));
      vstore<kTail>(m + i, mi, k);
      vstore<kTail>(v + i, vi, k);
      if constexpr (kAmsgrad) {
        vi = max_nan_b(vload<kTail>(vmax + i, k), vi);
        vstore<kTail>(vmax + i, vi, k);
      }
      const V denom = fma(simd::sqrt(vi), inv_bc2, eps);
      vstore<kTail>(p + i, fma(neg_step, simd::div(mi, denom), pi), k);
    });
    return;
  }
#endif
  for (int64_t i = begin; i < end; ++i) {  // the same operations as the vector body above
    T pi = p[i], gi = g[i];
    if constexpr (kDecay == Decay::kL2) gi = madd(c.wd, pi, gi);
    if constexpr (kDecay == Decay::kDecoupled) pi = pi * c.decay;
    const T mi = madd(c.omb1, gi, m[i] * c.b1);
    T vi = madd(c.omb2 * gi, gi, v[i] * c.b2);
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      vi = vmax[i] > vi ? vmax[i] : vi;  // as max_nan_b: NaN exp_avg_sq propagates (torch.maximum)
      vmax[i] = vi;
    }
    const T denom = madd(std::sqrt(vi), c.inv_bc2, c.eps);
    p[i] = madd(c.neg_step, mi / denom, pi);
  }
}

template <typename T, bool kWeightDecay, bool kCentered, bool kMomentum>
void rmsprop_range(T* __restrict p, const T* __restrict g, T* __restrict sq, T* __restrict gavg,
                   T* __restrict buf, int64_t begin, int64_t end, const RMSpropConsts<T> c) {
#if NABLA_OPTIM_SIMD
  if constexpr (std::is_same_v<T, float>) {
    using namespace simd;
    const V neg_lr = set1(c.neg_lr), alpha = set1(c.alpha), oma = set1(c.oma), eps = set1(c.eps),
            wd = set1(c.wd), mom = set1(c.mom), minus_one = set1(-1.0f);
    for_each_vector(begin, end, [&]<bool kTail>(int64_t i, Mask k) {
      const V pi = vload<kTail>(p + i, k);
      V gi = vload<kTail>(g + i, k);
      if constexpr (kWeightDecay) gi = fma(wd, pi, gi);
      const V sqi = fma(mul(oma, gi), gi, mul(vload<kTail>(sq + i, k), alpha));
      vstore<kTail>(sq + i, sqi, k);
      V avg;
      if constexpr (kCentered) {
        const V ga = fma(oma, gi, mul(vload<kTail>(gavg + i, k), alpha));
        vstore<kTail>(gavg + i, ga, k);
        avg = add(simd::sqrt(fma(mul(ga, minus_one), ga, sqi)), eps);  // sqi - ga*ga, rounded once
      } else {
        avg = add(simd::sqrt(sqi), eps);
      }
      V step = simd::div(gi, avg);
      if constexpr (kMomentum) {
        step = fma(vload<kTail>(buf + i, k), mom, step);
        vstore<kTail>(buf + i, step, k);
      }
      vstore<kTail>(p + i, fma(neg_lr, step, pi), k);
    });
    return;
  }
#endif
  for (int64_t i = begin; i < end; ++i) {  // the same operations as the vector body above
    const T pi = p[i];
    T gi = g[i];
    if constexpr (kWeightDecay) gi = madd(c.wd, pi, gi);
    const T sqi = madd(c.oma * gi, gi, sq[i] * c.alpha);
    sq[i] = sqi;
    T avg;
    if constexpr (kCentered) {
      const T ga = madd(c.oma, gi, gavg[i] * c.alpha);
      gavg[i] = ga;
      avg = std::sqrt(madd(-ga, ga, sqi)) + c.eps;
    } else {
      avg = std::sqrt(sqi) + c.eps;
    }
    T step = gi / avg;
    if constexpr (kMomentum) {
      step = madd(buf[i], c.mom, step);
      buf[i] = step;
    }
    p[i] = madd(c.neg_lr, step, pi);
  }
}

template <typename T, bool kWeightDecay>
void adagrad_range(T* __restrict p, const T* __restrict g, T* __restrict sum, int64_t begin, int64_t end,
                   const T neg_clr, const T eps, const T wd) {
#if NABLA_OPTIM_SIMD
  if constexpr (std::is_same_v<T, float>) {
    using namespace simd;
    const V vneg_clr = set1(neg_clr), veps = set1(eps), vwd = set1(wd);
    for_each_vector(begin, end, [&]<bool kTail>(int64_t i, Mask k) {
      const V pi = vload<kTail>(p + i, k);
      V gi = vload<kTail>(g + i, k);
      if constexpr (kWeightDecay) gi = fma(vwd, pi, gi);
      const V si = fma(gi, gi, vload<kTail>(sum + i, k));
      vstore<kTail>(sum + i, si, k);
      vstore<kTail>(p + i, fma(vneg_clr, simd::div(gi, add(simd::sqrt(si), veps)), pi), k);
    });
    return;
  }
#endif
  for (int64_t i = begin; i < end; ++i) {  // the same operations as the vector body above
    const T pi = p[i];
    T gi = g[i];
    if constexpr (kWeightDecay) gi = madd(wd, pi, gi);
    const T si = madd(gi, gi, sum[i]);
    sum[i] = si;
    p[i] = madd(neg_clr, gi / (std::sqrt(si) + eps), pi);
  }
}

// SGD has no sqrt or divide: one loop for every type, which the compiler vectorises.
template <typename T, bool kWeightDecay, bool kMomentum, bool kFirst, bool kNesterov>
void sgd_range(T* __restrict p, const T* __restrict g, T* __restrict buf, int64_t begin, int64_t end,
               const T neg_lr, const T mom, const T omd, const T wd) {
  for (int64_t i = begin; i < end; ++i) {
    T d = g[i];
    if constexpr (kWeightDecay) d = madd(wd, p[i], d);
    if constexpr (kMomentum) {
      const T b = kFirst ? d : madd(omd, d, buf[i] * mom);
      buf[i] = b;
      d = kNesterov ? madd(mom, b, d) : b;
    }
    p[i] = madd(neg_lr, d, p[i]);
  }
}

}  // namespace NABLA_OPTIM_ISA
}  // namespace nabla::ops::optim_cpu
