// CPU pooling kernels: plain window loops, parallel over (n, c) planes. Each plane is computed by
// one thread in a fixed order, so results do not depend on the thread count. Inputs may have any
// strides; outputs are fresh and contiguous. float16/bfloat16 accumulate in float.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "ops/conv/conv.h"
#include "ops/cpu_loops.h"

namespace nabla::ops::conv_cpu {
namespace {

// A 4-d tensor read through its strides, one (n, c) plane at a time.
template <typename T>
struct Planes {
  const T* p;
  int64_t C, s0, s1, s2, s3;
  Planes(const T* data, int64_t c, int64_t h, int64_t w) : p(data), C(c), s0(c * h * w), s1(h * w), s2(w), s3(1) {}
  explicit Planes(const Tensor& t)
      : p(static_cast<const T*>(t.raw_data())),
        C(t.size(1)),
        s0(t.stride(0)),
        s1(t.stride(1)),
        s2(t.stride(2)),
        s3(t.stride(3)) {}
  const T* plane(int64_t i) const { return p + (i / C) * s0 + (i % C) * s1; }
  T at(const T* plane, int64_t h, int64_t w) const { return plane[h * s2 + w * s3]; }
};

// Runs f(plane) over all planes, split across threads when the work is large.
template <typename F>
void for_planes(int64_t planes, int64_t work_per_plane, const F& f) {
  int64_t grain = std::max<int64_t>(1, cpu::kGrainSize / std::max<int64_t>(1, work_per_plane));
  cpu::parallel_for(0, planes, grain, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) f(p);
  });
}

// The window of output (oh, ow) clipped to the input, plus PyTorch's count_include_pad divisor.
struct Window {
  int64_t h0, h1, w0, w1, pool_size;
  Window(const PoolGeom& G, int64_t oh, int64_t ow) {
    h0 = oh * G.sh - G.ph;
    w0 = ow * G.sw - G.pw;
    h1 = std::min(h0 + G.kh, G.H + G.ph);
    w1 = std::min(w0 + G.kw, G.W + G.pw);
    pool_size = (h1 - h0) * (w1 - w0);
    h0 = std::max<int64_t>(h0, 0);
    w0 = std::max<int64_t>(w0, 0);
    h1 = std::min(h1, G.H);
    w1 = std::min(w1, G.W);
  }
};

// Calls f(T{}) for the floating dtypes (the only ones infer lets through).
template <typename F>
void visit_float(DType d, const F& f) {
  visit_dtype(d, [&](auto tag) {
    using U = decltype(tag);
    if constexpr (std::is_floating_point_v<cpu::compute_t<U>>) f(U{});
  });
}

// 2x2 stride 2 over float rows with unit stride: 16 windows per step, even/odd columns split by
// permutes, the same "later value wins if greater or NaN" rule as the scalar loops.
// relu: relu_max_pool2d's ReLU on the pooled values (x < 0 -> 0, NaN kept, as the relu kernel).
// pk (optional): the window offset k (0..3: row k / 2, column k % 2) as uint8 instead of pi.
__attribute__((target("avx512f"))) void max_pool_2x2_avx512(const float* xp, int64_t s2, const PoolGeom& G,
                                                            bool relu, float* pv, int64_t* pi,
                                                            uint8_t* pk = nullptr) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i lane2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t oh = 0; oh < G.Ho; ++oh) {
    const float* r0 = xp + 2 * oh * s2;
    const float* r1 = r0 + s2;
    for (int64_t ow = 0; ow < G.Wo; ow += 16) {
      int64_t n = std::min<int64_t>(16, G.Wo - ow);
      __mmask16 lo = static_cast<__mmask16>((1u << std::min<int64_t>(16, 2 * n)) - 1);
      __mmask16 hi = static_cast<__mmask16>((1u << std::max<int64_t>(0, 2 * n - 16)) - 1);
      __mmask16 out = static_cast<__mmask16>((1u << n) - 1);
      __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ow), a1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ow + 16);
      __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ow), b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ow + 16);
      __m512 v[4] = {_mm512_permutex2var_ps(a0, even, a1), _mm512_permutex2var_ps(a0, odd, a1),
                     _mm512_permutex2var_ps(b0, even, b1), _mm512_permutex2var_ps(b0, odd, b1)};
      __m512 best = v[0];
      __m512i k = _mm512_setzero_si512();
      for (int t = 1; t < 4; ++t) {
        __mmask16 take =
            _mm512_cmp_ps_mask(v[t], best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v[t], v[t], _CMP_UNORD_Q);
        best = _mm512_mask_mov_ps(best, take, v[t]);
        k = _mm512_mask_mov_epi32(k, take, _mm512_set1_epi32(t));
      }
      if (relu)
        best = _mm512_mask_mov_ps(best, _mm512_cmp_ps_mask(best, _mm512_setzero_ps(), _CMP_LT_OQ),
                                  _mm512_setzero_ps());
      _mm512_mask_storeu_ps(pv + oh * G.Wo + ow, out, best);
      if (pk) {
        _mm512_mask_cvtepi32_storeu_epi8(pk + oh * G.Wo + ow, out, k);
        continue;
      }
      // index = (2 oh + k / 2) * W + 2 (ow + lane) + k % 2
      __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(2 * oh * G.W + 2 * ow)), lane2);
      idx = _mm512_add_epi32(
          idx, _mm512_mullo_epi32(_mm512_srli_epi32(k, 1), _mm512_set1_epi32(static_cast<int>(G.W))));
      idx = _mm512_add_epi32(idx, _mm512_and_si512(k, _mm512_set1_epi32(1)));
      int64_t* po = pi + oh * G.Wo + ow;
      _mm512_mask_storeu_epi64(po, static_cast<__mmask8>(out),
                               _mm512_cvtepi32_epi64(_mm512_castsi512_si256(idx)));
      _mm512_mask_storeu_epi64(po + 8, static_cast<__mmask8>(out >> 8),
                               _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(idx, 1)));
    }
  }
}

// Gradient of the 2x2 stride-2 pool: the windows tile the input, so each window writes its four
// cells (the gradient at the argmax, zeros elsewhere) in one pass, without a separate zero fill.
// g and idx are contiguous [Ho, Wo] planes.
// y (the pooled output of relu_max_pool2d, or null): only windows with y > 0 pass their gradient.
// kidx (optional): window offsets (uint8, 0..3) instead of the int64 indices idx.
__attribute__((target("avx512f"))) void max_pool_2x2_grad_avx512(const float* g, const int64_t* idx,
                                                                 const float* y, const PoolGeom& G,
                                                                 float* gx, const uint8_t* kidx = nullptr) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
  const __m512i lane2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i one = _mm512_set1_epi32(1), w = _mm512_set1_epi32(static_cast<int>(G.W));
  const __m512i w1 = _mm512_add_epi32(w, one);
  // The window cell each k names: 0, 1 (top row), W, W + 1 (bottom row), or 0..3 for offsets.
  const __m512i c2 = kidx ? _mm512_set1_epi32(2) : w, c3 = kidx ? _mm512_set1_epi32(3) : w1;
  for (int64_t oh = 0; oh < G.Ho; ++oh) {
    float* r0 = gx + 2 * oh * G.W;
    float* r1 = r0 + G.W;
    for (int64_t ow = 0; ow < G.Wo; ow += 16) {
      int64_t n = std::min<int64_t>(16, G.Wo - ow);
      __mmask16 in = static_cast<__mmask16>((1u << n) - 1);
      __mmask16 st_lo = static_cast<__mmask16>((1u << std::min<int64_t>(16, 2 * n)) - 1);
      __mmask16 st_hi = static_cast<__mmask16>((1u << std::max<int64_t>(0, 2 * n - 16)) - 1);
      if (y)
        in &= _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(in, y + oh * G.Wo + ow), _mm512_setzero_ps(),
                                 _CMP_GT_OQ);
      __m512 v = _mm512_maskz_loadu_ps(in, g + oh * G.Wo + ow);
      __m512i k;
      if (kidx) {
        alignas(16) uint8_t kb[16] = {};
        std::copy(kidx + oh * G.Wo + ow, kidx + oh * G.Wo + ow + n, kb);
        k = _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(kb)));
      } else {
        const int64_t* ip = idx + oh * G.Wo + ow;
        __m256i i0 = _mm512_cvtepi64_epi32(_mm512_maskz_loadu_epi64(static_cast<__mmask8>(in), ip));
        __m256i i1 = _mm512_cvtepi64_epi32(_mm512_maskz_loadu_epi64(static_cast<__mmask8>(in >> 8), ip + 8));
        k = _mm512_inserti64x4(_mm512_castsi256_si512(i0), i1, 1);
        // k = index within the window: 0, 1 (top row), W, W + 1 (bottom row)
        k = _mm512_sub_epi32(
            k, _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(2 * oh * G.W + 2 * ow)), lane2));
      }
      __m512 e0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(k, _mm512_setzero_si512()), v);
      __m512 e1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(k, one), v);
      __m512 e2 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(k, c2), v);
      __m512 e3 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(k, c3), v);
      _mm512_mask_storeu_ps(r0 + 2 * ow, st_lo, _mm512_permutex2var_ps(e0, lo, e1));
      _mm512_mask_storeu_ps(r0 + 2 * ow + 16, st_hi, _mm512_permutex2var_ps(e0, hi, e1));
      _mm512_mask_storeu_ps(r1 + 2 * ow, st_lo, _mm512_permutex2var_ps(e2, lo, e3));
      _mm512_mask_storeu_ps(r1 + 2 * ow + 16, st_hi, _mm512_permutex2var_ps(e2, hi, e3));
    }
    if (G.W % 2) r0[G.W - 1] = r1[G.W - 1] = 0.0f;  // the column no window covers
  }
  std::fill(gx + 2 * G.Ho * G.W, gx + G.H * G.W, 0.0f);  // and the row
}

// The common 2x2 window without padding (always inside the input): the same scan order and
// NaN rule as the general loop, without its clipping.
// Branch-free: on random data the general loop's branches mispredict about once per window.
template <typename T>
void max_pool_2x2(const Planes<T>& x, const T* xp, const PoolGeom& G, T* pv, int64_t* pi, bool relu,
                  uint8_t* pk = nullptr) {
  using A = cpu::compute_t<T>;
  if constexpr (std::is_same_v<T, float>) {
    if (x.s3 == 1 && G.sh == 2 && G.sw == 2 && G.H * G.W < (int64_t{1} << 30) && have_avx512()) {
      max_pool_2x2_avx512(xp, x.s2, G, relu, pv, pi, pk);
      return;
    }
  }
  for (int64_t oh = 0; oh < G.Ho; ++oh) {
    int64_t h = oh * G.sh;
    const T* r0 = xp + h * x.s2;
    const T* r1 = r0 + x.s2;
    for (int64_t ow = 0; ow < G.Wo; ++ow, ++pv) {
      int64_t w = ow * G.sw;
      A v[4] = {static_cast<A>(r0[w * x.s3]), static_cast<A>(r0[(w + 1) * x.s3]),
                static_cast<A>(r1[w * x.s3]), static_cast<A>(r1[(w + 1) * x.s3])};
      A best = v[0];
      int k = 0;
      for (int t = 1; t < 4; ++t) {
        bool take = (v[t] > best) | (v[t] != v[t]);
        best = take ? v[t] : best;
        k = take ? t : k;
      }
      *pv = T(relu && best < A(0) ? A(0) : best);
      if (pk)
        pk[oh * G.Wo + ow] = static_cast<uint8_t>(k);
      else
        pi[oh * G.Wo + ow] = (h + (k >> 1)) * G.W + w + (k & 1);
    }
  }
}

// relu_max_pool2d: ReLU applied to the pooled plane while it is in cache (max commutes with the
// monotone ReLU, so this equals pooling relu(x)); the same rule as the relu kernel (NaN stays).
template <typename T>
void relu_plane(T* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) v[i] = v[i] < T(0) ? T(0) : v[i];
}

void max_pool2d_impl(const Tensor* in, Tensor* out, const Attrs& a, bool relu) {
  PoolGeom G = pool_geom(in[0].shape(), a);
  int64_t* pi = static_cast<int64_t*>(out[1].raw_data());
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> x(in[0]);
    T* pv = static_cast<T*>(out[0].raw_data());
    for_planes(G.planes, G.Ho * G.Wo * G.kh * G.kw, [&](int64_t p) {
      const T* xp = x.plane(p);
      int64_t o = p * G.Ho * G.Wo;
      if (G.kh == 2 && G.kw == 2 && G.ph == 0 && G.pw == 0) {
        max_pool_2x2(x, xp, G, pv + o, pi + o, relu);
        return;
      }
      T* plane_out = pv + o;
      for (int64_t oh = 0; oh < G.Ho; ++oh)
        for (int64_t ow = 0; ow < G.Wo; ++ow, ++o) {
          Window win(G, oh, ow);
          A best = -std::numeric_limits<A>::infinity();
          int64_t bi = win.h0 * G.W + win.w0;
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w) {
              A v = static_cast<A>(x.at(xp, h, w));
              if (v > best || std::isnan(v)) {  // NaN propagates, as in PyTorch
                best = v;
                bi = h * G.W + w;
              }
            }
          pv[o] = T(best);
          pi[o] = bi;
        }
      if (relu) relu_plane(plane_out, G.Ho * G.Wo);
    });
  });
}

// max_pool2d_grad with window offsets (uint8 k: row 2 oh + k / 2, column 2 ow + k % 2) instead of
// int64 indices: what fuse_conv_pool's compact indices feed it (2x2 stride-2 windows only).
void max_pool2d_grad_offsets(const Tensor* in, int n, Tensor* out, const PoolGeom& G) {
  NABLA_CHECK(is_2x2_window(G), "max_pool2d_grad: uint8 window offsets need a 2x2 stride-2 unpadded window");
  if (in[0].dtype() != kFloat32) {
    // Other dtypes take the generic kernel on int64 positions.
    NoGradGuard no_grad;
    Tensor idx = empty(in[1].shape(), kInt64);
    const Tensor k = in[1].contiguous();
    const uint8_t* pk = static_cast<const uint8_t*>(k.raw_data());
    int64_t* pi = static_cast<int64_t*>(idx.raw_data());
    for (int64_t q = 0, e = idx.numel(); q < e; ++q) {
      const int64_t oh = q / G.Wo % G.Ho, ow = q % G.Wo;
      pi[q] = window_position(oh, ow, pk[q], G.W);
    }
    Tensor args[3] = {in[0], idx, n == 3 ? in[2] : Tensor()};
    Attrs a;
    for (int j = 0; j < 2; ++j) a.i[j] = 2, a.i[2 + j] = 2;
    a.shape = out[0].shape();
    return max_pool2d_grad(args, n, out, a);
  }
  // A gradient that reaches the pool through a view (a permute, say) is read from a copy.
  NoGradGuard no_grad;
  const Tensor g = in[0].contiguous(), k = in[1].contiguous(), y = n == 3 ? in[2].contiguous() : Tensor();
  const float* pg = static_cast<const float*>(g.raw_data());
  const uint8_t* pk = static_cast<const uint8_t*>(k.raw_data());
  const float* py = n == 3 ? static_cast<const float*>(y.raw_data()) : nullptr;
  float* px = static_cast<float*>(out[0].raw_data());
  const int64_t po = G.Ho * G.Wo;
  for_planes(G.planes, G.H * G.W + po, [&](int64_t p) {
    float* gx = px + p * G.H * G.W;
    const int64_t o = p * po;
    if (have_avx512()) return max_pool_2x2_grad_avx512(pg + o, nullptr, py ? py + o : nullptr, G, gx, pk + o);
    std::fill(gx, gx + G.H * G.W, 0.0f);
    for (int64_t oh = 0; oh < G.Ho; ++oh)
      for (int64_t ow = 0; ow < G.Wo; ++ow) {
        const int64_t q = o + oh * G.Wo + ow;
        if (py && !(py[q] > 0.0f)) continue;
        gx[window_position(oh, ow, pk[q], G.W)] += pg[q];
      }
  });
}

}  // namespace

void max_pool2d(const Tensor* in, int, Tensor* out, const Attrs& a) { max_pool2d_impl(in, out, a, false); }
void max_pool_2x2_grad_plane(const float* g, const int64_t* indices, const float* y, const PoolGeom& G, float* gx,
                             const uint8_t* offsets) {
  NABLA_CHECK(is_2x2_window(G) && have_avx512(),
              "max_pool_2x2_grad_plane: expected a 2x2 stride-2 unpadded window and AVX-512");
  max_pool_2x2_grad_avx512(g, indices, y, G, gx, offsets);
}
void relu_max_pool_2x2_plane(const float* plane, const PoolGeom& G, float* values, int64_t* indices,
                             uint8_t* offsets) {
  NABLA_CHECK(is_2x2_window(G), "relu_max_pool_2x2_plane: expected a 2x2 stride-2 unpadded window");
  max_pool_2x2(Planes<float>(plane, 1, G.H, G.W), plane, G, values, indices, true, offsets);
}
void relu_max_pool2d(const Tensor* in, int, Tensor* out, const Attrs& a) {
  max_pool2d_impl(in, out, a, true);
}

// (g, indices[, y]): with y (relu_max_pool2d's output) the gradient of windows whose pooled
// value is not > 0 is dropped, ReLU's backward applied on the pooled grid.
void max_pool2d_grad(const Tensor* in, int n, Tensor* out, const Attrs& a) {
  PoolGeom G = pool_geom(out[0].shape(), a);
  if (in[1].dtype() == kUInt8) return max_pool2d_grad_offsets(in, n, out, G);
  Planes<int64_t> idx(in[1]);
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> g(in[0]);
    std::optional<Planes<T>> y;
    if (n == 3) y.emplace(in[2]);
    T* px = static_cast<T*>(out[0].raw_data());
    bool fast = std::is_same_v<T, float> && G.kh == 2 && G.kw == 2 && G.sh == 2 && G.sw == 2 && G.ph == 0 &&
                G.pw == 0 && g.s3 == 1 && g.s2 == G.Wo && idx.s3 == 1 && idx.s2 == G.Wo &&
                (!y || (y->s3 == 1 && y->s2 == G.Wo)) && G.H * G.W < (int64_t{1} << 30) && have_avx512();
    for_planes(G.planes, G.H * G.W + G.Ho * G.Wo, [&](int64_t p) {
      T* gx = px + p * G.H * G.W;
      if constexpr (std::is_same_v<T, float>) {
        if (fast) return max_pool_2x2_grad_avx512(g.plane(p), idx.plane(p), y ? y->plane(p) : nullptr, G, gx);
      }
      std::fill(gx, gx + G.H * G.W, T(0));
      const T* gp = g.plane(p);
      const int64_t* ip = idx.plane(p);
      const T* yp = y ? y->plane(p) : nullptr;
      for (int64_t oh = 0; oh < G.Ho; ++oh)
        for (int64_t ow = 0; ow < G.Wo; ++ow) {
          if (yp && !(static_cast<A>(y->at(yp, oh, ow)) > A(0))) continue;
          int64_t k = idx.at(ip, oh, ow);
          gx[k] = T(static_cast<A>(gx[k]) + static_cast<A>(g.at(gp, oh, ow)));
        }
    });
  });
}

void avg_pool2d(const Tensor* in, int, Tensor* out, const Attrs& a) {
  PoolGeom G = pool_geom(in[0].shape(), a);
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> x(in[0]);
    T* po = static_cast<T*>(out[0].raw_data());
    for_planes(G.planes, G.Ho * G.Wo * G.kh * G.kw, [&](int64_t p) {
      const T* xp = x.plane(p);
      T* op = po + p * G.Ho * G.Wo;
      for (int64_t oh = 0; oh < G.Ho; ++oh)
        for (int64_t ow = 0; ow < G.Wo; ++ow) {
          Window win(G, oh, ow);
          A s = 0;
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w) s += static_cast<A>(x.at(xp, h, w));
          op[oh * G.Wo + ow] = T(s / static_cast<A>(win.pool_size));
        }
    });
  });
}

void avg_pool2d_grad(const Tensor* in, int, Tensor* out, const Attrs& a) {
  PoolGeom G = pool_geom(out[0].shape(), a);
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> g(in[0]);
    T* px = static_cast<T*>(out[0].raw_data());
    for_planes(G.planes, G.H * G.W + G.Ho * G.Wo * G.kh * G.kw, [&](int64_t p) {
      T* gx = px + p * G.H * G.W;
      std::fill(gx, gx + G.H * G.W, T(0));
      const T* gp = g.plane(p);
      for (int64_t oh = 0; oh < G.Ho; ++oh)
        for (int64_t ow = 0; ow < G.Wo; ++ow) {
          Window win(G, oh, ow);
          A v = static_cast<A>(g.at(gp, oh, ow)) / static_cast<A>(win.pool_size);
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w)
              gx[h * G.W + w] = T(static_cast<A>(gx[h * G.W + w]) + v);
        }
    });
  });
}

void adaptive_avg_pool2d(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor& x = in[0];
  int64_t H = x.size(2), W = x.size(3), OH = a.i[0], OW = a.i[1];
  visit_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> xs(x);
    T* po = static_cast<T*>(out[0].raw_data());
    for_planes(x.size(0) * x.size(1), H * W, [&](int64_t p) {
      const T* xp = xs.plane(p);
      T* op = po + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
          A s = 0;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) s += static_cast<A>(xs.at(xp, h, w));
          op[oh * OW + ow] = T(s / static_cast<A>((h1 - h0) * (w1 - w0)));
        }
      }
    });
  });
}

void adaptive_avg_pool2d_grad(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Shape& xs = out[0].shape();
  int64_t H = xs[2], W = xs[3], OH = a.i[0], OW = a.i[1];
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> g(in[0]);
    T* px = static_cast<T*>(out[0].raw_data());
    for_planes(xs[0] * xs[1], H * W, [&](int64_t p) {
      T* gx = px + p * H * W;
      std::fill(gx, gx + H * W, T(0));
      const T* gp = g.plane(p);
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
          A v = static_cast<A>(g.at(gp, oh, ow)) / static_cast<A>((h1 - h0) * (w1 - w0));
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) gx[h * W + w] = T(static_cast<A>(gx[h * W + w]) + v);
        }
      }
    });
  });
}

}  // namespace nabla::ops::conv_cpu
