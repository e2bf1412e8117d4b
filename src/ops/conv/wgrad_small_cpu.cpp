// Float32 weight gradient for convolutions with few taps per output channel (Kc = C/groups * kh *
// kw <= 16, e.g. the first layer of an image model, C = 1): positions along the vector lanes.
//
// gw[co][k] = sum over images n and positions p of gy[n][co][p] * col_n[k][p], where col_n is
// image n's im2col matrix (Kc x P: small, it stays in L1). A tile keeps R channels x C taps of
// 16-lane partial sums in registers and streams R rows of gy once, so the output gradient is read
// straight from its NCHW layout: no transposition, no padded copy (the lane-over-channels kernel
// of direct_cpu.cpp needs both, and with so few taps its tiles are too small to hide them).
// Each weight is the fixed-order lane reduction of one accumulator that adds positions in order
// and images in order; threads split the channels only, so results do not depend on the thread
// count.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <utility>

#include "ops/conv/conv.h"
#include "ops/conv/im2col.h"
#include "ops/conv/scratch.h"
#include "ops/linalg/gemm.h"

#define NABLA_AVX512 __attribute__((target("avx512f,fma")))

namespace nabla::ops::conv_cpu {
namespace {

constexpr int kMaxR = 2;        // channels per tile
constexpr int kMaxC = 12;       // taps per tile (R * C <= 24 accumulators)
constexpr int64_t kMaxKc = 16;  // taps per channel this kernel takes
// The im2col matrix of one image (floats) above which the lane-over-channels kernel is used.
constexpr int64_t kMaxCol = int64_t{1} << 16;

// acc[r][c] (16 lanes each, in acc_mem) += sum over p of gy[r * P + p] * col[c * P + p]; with B,
// also bacc[r] (after them) += sum over p of gy[r * P + p], the bias grad.
template <bool B, int R, int C>
NABLA_AVX512 void small_tile(const float* gy, const float* col, int64_t P, float* acc_mem) {
  __m512 acc[R][C], bacc[R];
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r)
    if (B) bacc[r] = _mm512_loadu_ps(acc_mem + (R * C + r) * 16);
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 12
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_loadu_ps(acc_mem + (r * C + c) * 16);
  auto step = [&](int64_t p, __mmask16 m) __attribute__((always_inline)) {
    __m512 g[R];
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) {
      g[r] = _mm512_maskz_loadu_ps(m, gy + r * P + p);
      if (B) bacc[r] = _mm512_add_ps(bacc[r], g[r]);
    }
#pragma GCC unroll 12
    for (int c = 0; c < C; ++c) {
      __m512 x = _mm512_maskz_loadu_ps(m, col + c * P + p);
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(g[r], x, acc[r][c]);
    }
  };
  int64_t p = 0;
  for (; p + 16 <= P; p += 16) step(p, 0xFFFF);
  if (p < P) step(p, static_cast<__mmask16>((1u << (P - p)) - 1));
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 12
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(acc_mem + (r * C + c) * 16, acc[r][c]);
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r)
    if (B) _mm512_storeu_ps(acc_mem + (R * C + r) * 16, bacc[r]);
}

using TileFn = void (*)(const float*, const float*, int64_t, float*);
template <bool B, int R, int... Cs>
constexpr std::array<TileFn, sizeof...(Cs)> tile_row(std::integer_sequence<int, Cs...>) {
  return {&small_tile<B, R, Cs + 1>...};
}
// kTile[b][r-1][c-1]: the tile of r channels x c taps, with (b = 1) or without the bias sums.
const std::array<std::array<std::array<TileFn, kMaxC>, kMaxR>, 2> kTile = {
    {{tile_row<false, 1>(std::make_integer_sequence<int, kMaxC>{}),
      tile_row<false, 2>(std::make_integer_sequence<int, kMaxC>{})},
     {tile_row<true, 1>(std::make_integer_sequence<int, kMaxC>{}),
      tile_row<true, 2>(std::make_integer_sequence<int, kMaxC>{})}}};

// Lanes [lo, hi) of a 16-lane mask (empty when hi <= lo).
inline __mmask16 lane_range(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, 16);
  hi = std::clamp<int64_t>(hi, lo, 16);
  return static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// im2col (im2col.h's layout) for unit-stride rows and horizontal stride 1, 16 columns at a time:
// masked loads read the valid columns and zero the padding, without touching memory outside.
NABLA_AVX512 void im2col_rows(const float* x, int64_t xs1, int64_t xs2, const ConvGeom& G, float* col) {
  for (int64_t c = 0; c < G.Cg(); ++c)
    for (int64_t i = 0; i < G.kh; ++i)
      for (int64_t j = 0; j < G.kw; ++j) {
        float* dst = col + ((c * G.kh + i) * G.kw + j) * G.HoWo();
        int64_t lo, hi, woff = j * G.dw - G.pw;
        valid_range(G.Wo, G.W, 1, woff, lo, hi);
        for (int64_t oh = 0; oh < G.Ho; ++oh, dst += G.Wo) {
          int64_t ih = oh * G.sh - G.ph + i * G.dh;
          bool in = ih >= 0 && ih < G.H;
          const float* src = x + c * xs1 + ih * xs2 + woff;
          for (int64_t ow = 0; ow < G.Wo; ow += 16) {
            __mmask16 m = in ? lane_range(lo - ow, hi - ow) : 0;
            _mm512_mask_storeu_ps(dst + ow, lane_range(0, G.Wo - ow), _mm512_maskz_loadu_ps(m, src + ow));
          }
        }
      }
}

NABLA_AVX512 float lane_sum(const float* v) { return _mm512_reduce_add_ps(_mm512_loadu_ps(v)); }

}  // namespace

bool small_wgrad_applies(const ConvGeom& G, DType dtype) {
  return dtype == kFloat32 && G.Kc() <= kMaxKc && G.Kc() * G.HoWo() <= kMaxCol && G.HoWo() >= 16 &&
         direct_conv_enabled() && have_avx512();
}

void small_conv2d_weight_grad(const Tensor& gy, const Tensor& x, const Tensor& gw, const ConvGeom& G,
                              float* gb) {
  const float* pg = static_cast<const float*>(gy.raw_data());  // contiguous [N, Co, Ho, Wo]
  const int64_t P = G.HoWo();
  small_conv2d_weight_grad_rows(
      [&](int64_t n, int64_t c0, int64_t, float*) { return pg + (n * G.Co + c0) * P; }, x, gw, G, gb);
}

void small_conv2d_weight_grad_rows(const GyRows& gy_rows, const Tensor& x, const Tensor& gw,
                                   const ConvGeom& G, float* gb) {
  const float* px = static_cast<const float*>(x.raw_data());
  const int64_t* xs = x.strides().data();
  float* pw = static_cast<float*>(gw.raw_data());
  const int64_t P = G.HoWo(), Kc = G.Kc(), Cog = G.Cog();
  // Tiles: pairs of channels x tap chunks of at most kMaxC, taps spread evenly over the chunks.
  const int64_t kchunks = (Kc + kMaxC - 1) / kMaxC, kc = (Kc + kchunks - 1) / kchunks;
  const int64_t cpairs = (Cog + kMaxR - 1) / kMaxR, ntiles = cpairs * kchunks;
  const int64_t tile_size = kMaxR * (kMaxC + 1) * 16;  // [r][c][16] sums, then [r][16] bias sums
  Scratch<float> acc(ntiles * tile_size);
  for (int64_t g = 0; g < G.groups; ++g) {
    std::fill(acc.p, acc.p + ntiles * tile_size, 0.0f);
    int64_t per_tile = kMaxR * kc * P * G.N;
    cpu::parallel_for(
        0, ntiles, std::max<int64_t>(1, cpu::kGemmParallelWork / per_tile), [&](int64_t b, int64_t e) {
          // This thread's tiles cover channels [c0, c1) of the group: their rows of each image.
          const int64_t c0 = b / kchunks * kMaxR, c1 = std::min(Cog, ((e - 1) / kchunks + 1) * kMaxR);
          Scratch<float> col(Kc * P), rows((c1 - c0) * P);
          for (int64_t n = 0; n < G.N; ++n) {
            const float* xn = px + n * xs[0] + g * G.Cg() * xs[1];
            if (G.sw == 1 && xs[3] == 1)
              im2col_rows(xn, xs[1], xs[2], G, col.p);
            else
              im2col(xn, xs[1], xs[2], xs[3], G, col.p);
            const float* gyn = gy_rows(n, g * Cog + c0, g * Cog + c1, rows.p);
            for (int64_t t = b; t < e; ++t) {
              int64_t cp = t / kchunks, kb = t % kchunks;
              int64_t r = std::min<int64_t>(kMaxR, Cog - cp * kMaxR), c = std::min(kc, Kc - kb * kc);
              // The first tap chunk of a channel pair also sums its bias grad.
              kTile[gb && kb == 0][r - 1][c - 1](gyn + (cp * kMaxR - c0) * P, col.p + kb * kc * P, P,
                                                 acc.p + t * tile_size);
            }
          }
        });
    // acc tile t holds [r][c][16 lanes] for weight (cp * 2 + r, kb * kc + c).
    float* gwg = pw + g * Cog * Kc;
    for (int64_t t = 0; t < ntiles; ++t) {
      int64_t cp = t / kchunks, kb = t % kchunks;
      int64_t r = std::min<int64_t>(kMaxR, Cog - cp * kMaxR), c = std::min(kc, Kc - kb * kc);
      for (int64_t rr = 0; rr < r; ++rr) {
        for (int64_t cc = 0; cc < c; ++cc)
          gwg[(cp * kMaxR + rr) * Kc + kb * kc + cc] = lane_sum(acc.p + t * tile_size + (rr * c + cc) * 16);
        if (gb && kb == 0)
          gb[g * Cog + cp * kMaxR + rr] = lane_sum(acc.p + t * tile_size + (r * c + rr) * 16);
      }
    }
  }
}

}  // namespace nabla::ops::conv_cpu
