// Direct (im2col-free) float32 convolution for stride 1 on AVX-512 CPUs.
//
// Each input plane is copied once into a zero-padded Hp x Wp buffer xp. Tap (ci, i, j) of the
// kernel then reads, for output (oh, ow), xp[off + oh * Wp + ow] with off = ci * Hp * Wp +
// i * dh * Wp + j * dw: along an output row the operand is one contiguous (shifted) row of xp, so
// the product is a GEMM whose rows are shifted views of the padded input and no im2col matrix is
// written. Outputs are handled in "slots" of up to 16 consecutive columns of one output row (a
// 14-wide row is one slot, 28-wide two), loaded and stored with lane masks:
//   forward:     8 output channels x 2 slots in 16 zmm accumulators over all taps, bias added and
//                stored straight into the NCHW output;
//   input grad:  the same kernel on the output gradient with the flipped, transposed weights and
//                padding d(k-1) - p (needs p <= d(k-1));
//   weight grad: gw[co][tap] = sum over images and slots of gy[co][slot] * xp[off[tap] + slot],
//                4 x 6 (co, tap) tiles of 16-lane partial sums, images in order, lanes summed last.
// Every output element is produced by one fixed sequence of operations (the split across threads
// is over images or output-channel blocks only), so results do not depend on the thread count.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <utility>
#include <vector>

#include "ops/conv/conv.h"
#include "ops/conv/scratch.h"
#include "ops/linalg/gemm.h"

#define NABLA_AVX512 __attribute__((target("avx512f,fma")))

namespace nabla::ops::conv_cpu {
namespace {

std::atomic<bool> g_direct_enabled{true};

constexpr int kRB = 8;         // forward: output channels per tile
constexpr int kNV = 2;         // forward: 16-float vectors of positions per tile
constexpr int kGR = 4;         // weight grad: output channels per tile
constexpr int kGC = 6;         // weight grad: taps per tile
constexpr int64_t kChunk = 8;  // weight grad: images padded and swept together
// Per-thread buffers larger than this (floats) fall back to im2col.
constexpr int64_t kMaxBuffer = int64_t{1} << 22;

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Padded geometry of one stride-1 convolution over a [Cin, H, W] image, and its output slots.
struct Direct {
  int64_t Cin, Cout, H, W, kh, kw, ph, pw, dh, dw;
  int64_t Hp, Wp, Ho, Wo, plane, xp_size, Kc, Co_pad;
  std::vector<int32_t> src, dst;  // per slot: offset in the padded plane, offset in the output plane
  std::vector<uint16_t> mask;     // per slot: valid lanes
};
Direct make_direct(int64_t Cin, int64_t Cout, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t ph,
                   int64_t pw, int64_t dh, int64_t dw) {
  Direct D{Cin, Cout, H, W, kh, kw, ph, pw, dh, dw, 0, 0, 0, 0, 0, 0, 0, 0, {}, {}, {}};
  D.Hp = H + 2 * ph;
  D.Wp = W + 2 * pw;
  D.Ho = D.Hp - dh * (kh - 1);
  D.Wo = D.Wp - dw * (kw - 1);
  D.plane = D.Hp * D.Wp;
  int64_t max_off = (kh - 1) * dh * D.Wp + (kw - 1) * dw;
  // A slot reads 16 floats from off + src: at most (Cin-1)*plane + max_off + (Ho-1)*Wp + Wo + 15.
  D.xp_size = round_up(std::max(Cin * D.plane, (Cin - 1) * D.plane + max_off + D.Ho * D.Wp + 16), 16);
  D.Kc = Cin * kh * kw;
  D.Co_pad = round_up(Cout, kRB);
  return D;
}
void make_slots(Direct& D) {
  for (int64_t oh = 0; oh < D.Ho; ++oh)
    for (int64_t ow = 0; ow < D.Wo; ow += 16) {
      D.src.push_back(static_cast<int32_t>(oh * D.Wp + ow));
      D.dst.push_back(static_cast<int32_t>(oh * D.Wo + ow));
      D.mask.push_back(static_cast<uint16_t>((1u << std::min<int64_t>(16, D.Wo - ow)) - 1));
    }
}
// Direct geometry of the forward conv and of the input grad's conv (gy -> gx).
Direct forward_direct(const ConvGeom& G) {
  return make_direct(G.Cg(), G.Cog(), G.H, G.W, G.kh, G.kw, G.ph, G.pw, G.dh, G.dw);
}
Direct input_grad_direct(const ConvGeom& G) {
  return make_direct(G.Cog(), G.Cg(), G.Ho, G.Wo, G.kh, G.kw, G.dh * (G.kh - 1) - G.ph,
                     G.dw * (G.kw - 1) - G.pw, G.dh, G.dw);
}

bool have_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return ok;
}

// Offsets of the taps (ci, i, j) in the padded input, in weight order.
void tap_offsets(const Direct& D, int32_t* off) {
  for (int64_t c = 0; c < D.Cin; ++c)
    for (int64_t i = 0; i < D.kh; ++i)
      for (int64_t j = 0; j < D.kw; ++j)
        *off++ = static_cast<int32_t>(c * D.plane + i * D.dh * D.Wp + j * D.dw);
}

// xp = image [Cin, H, W] (strides s1, s2, s3) zero-padded to [Cin, Hp, Wp], zeros to xp_size.
// Rows of at most 16 padded floats with unit stride (the seed CNN's): one masked load (lanes
// outside the row read as zero, without touching memory) and one masked store per row.
NABLA_AVX512 void pad_image_narrow(const float* x, int64_t s1, int64_t s2, const Direct& D, float* xp) {
  const __mmask16 row = static_cast<__mmask16>(((1u << D.W) - 1) << D.pw);
  const __mmask16 all = static_cast<__mmask16>((1u << D.Wp) - 1);
  for (int64_t c = 0; c < D.Cin; ++c) {
    float* p = xp + c * D.plane;
    std::fill(p, p + D.ph * D.Wp, 0.0f);
    p += D.ph * D.Wp;
    const float* src = x + c * s1 - D.pw;
    for (int64_t h = 0; h < D.H; ++h, p += D.Wp, src += s2)
      _mm512_mask_storeu_ps(p, all, _mm512_maskz_loadu_ps(row, src));
    std::fill(p, p + D.ph * D.Wp, 0.0f);
  }
  std::fill(xp + D.Cin * D.plane, xp + D.xp_size, 0.0f);
}

void pad_image(const float* x, int64_t s1, int64_t s2, int64_t s3, const Direct& D, float* xp) {
  if (s3 == 1 && D.Wp <= 16) return pad_image_narrow(x, s1, s2, D, xp);
  for (int64_t c = 0; c < D.Cin; ++c) {
    float* p = xp + c * D.plane;
    std::fill(p, p + D.ph * D.Wp, 0.0f);
    p += D.ph * D.Wp;
    for (int64_t h = 0; h < D.H; ++h, p += D.Wp) {
      const float* src = x + c * s1 + h * s2;
      std::fill(p, p + D.pw, 0.0f);
      // Plain loops, not memcpy: the rows are short (14 floats in the seed CNN).
      if (s3 == 1)
        for (int64_t w = 0; w < D.W; ++w) p[D.pw + w] = src[w];
      else
        for (int64_t w = 0; w < D.W; ++w) p[D.pw + w] = src[w * s3];
      std::fill(p + D.pw + D.W, p + D.Wp, 0.0f);
    }
    std::fill(p, p + D.ph * D.Wp, 0.0f);
  }
  std::fill(xp + D.Cin * D.plane, xp + D.xp_size, 0.0f);
}

// ---- forward tile: 8 output channels (nrows of them real) x NV slots, over all Kc taps ----
template <int NV>
NABLA_AVX512 void fwd_tile(const float* xp, const int32_t* off, int64_t Kc, const float* wb,
                           const int32_t* src, const int32_t* dst, const uint16_t* mask, float* out,
                           int64_t P, const float* bias, int64_t nrows) {
  __m512 acc[kRB][NV];
#pragma GCC unroll 8
  for (int r = 0; r < kRB; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  const float* base[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) base[v] = xp + src[v];
  for (int64_t k = 0; k < Kc; ++k) {
    __m512 b[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(base[v] + off[k]);
    const float* a = wb + k * kRB;
#pragma GCC unroll 8
    for (int r = 0; r < kRB; ++r) {
      __m512 ar = _mm512_set1_ps(a[r]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kRB; ++r) {
    if (r >= nrows) break;
    __m512 br = _mm512_set1_ps(bias ? bias[r] : 0.0f);
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      _mm512_mask_storeu_ps(out + r * P + dst[v], mask[v], _mm512_add_ps(acc[r][v], br));
  }
}

// One image: out [Cout, Ho, Wo] (contiguous) = conv(xp, packed weights) + bias (bias[co], or none).
void fwd_image(const Direct& D, const float* xp, const int32_t* off, const float* wpack, const float* bias,
               float* out) {
  int64_t P = D.Ho * D.Wo, nslots = static_cast<int64_t>(D.src.size());
  for (int64_t cb = 0; cb < D.Co_pad / kRB; ++cb) {
    const float* wb = wpack + cb * D.Kc * kRB;
    const float* bb = bias ? bias + cb * kRB : nullptr;
    float* ob = out + cb * kRB * P;
    int64_t nrows = std::min<int64_t>(kRB, D.Cout - cb * kRB);
    int64_t s = 0;
    for (; s + kNV <= nslots; s += kNV)
      fwd_tile<kNV>(xp, off, D.Kc, wb, &D.src[s], &D.dst[s], &D.mask[s], ob, P, bb, nrows);
    if (s < nslots) fwd_tile<1>(xp, off, D.Kc, wb, &D.src[s], &D.dst[s], &D.mask[s], ob, P, bb, nrows);
  }
}

// wpack[cb][k][r] = weight(cb * 8 + r, k), zero for the padding channels.
template <typename F>
void pack_weights(const Direct& D, const F& weight, float* wpack) {
  for (int64_t cb = 0; cb < D.Co_pad / kRB; ++cb)
    for (int64_t k = 0; k < D.Kc; ++k)
      for (int r = 0; r < kRB; ++r) {
        int64_t co = cb * kRB + r;
        wpack[(cb * D.Kc + k) * kRB + r] = co < D.Cout ? weight(co, k) : 0.0f;
      }
}

// Runs fwd_image over the images in parallel; in(n) and out(n) give image n's input (with strides
// s1..s3) and contiguous output. bias: Co_pad values (zero-padded) or null.
template <typename In, typename Out>
void fwd_batch(const Direct& D, int64_t N, const float* wpack, const float* bias, int64_t s1, int64_t s2,
               int64_t s3, const In& in, const Out& out) {
  std::vector<int32_t> off(D.Kc);
  tap_offsets(D, off.data());
  int64_t per_image = std::max<int64_t>(1, D.Co_pad * D.Kc * D.Ho * D.Wo);
  cpu::parallel_for(0, N, std::max<int64_t>(1, cpu::kGemmParallelWork / per_image),
                    [&](int64_t b, int64_t e) {
                      Scratch<float> xp(D.xp_size);
                      for (int64_t n = b; n < e; ++n) {
                        pad_image(in(n), s1, s2, s3, D, xp.p);
                        fwd_image(D, xp.p, off.data(), wpack, bias, out(n));
                      }
                    });
}

// ---- weight grad tile: lanes[r][c][16] += sum over images and slots of gy[r][slot] * xp[off[c] + slot] ----
template <int R, int C>
NABLA_AVX512 void wgrad_tile(const float* gy, int64_t P, int64_t gy_img, const float* xp, int64_t xp_img,
                             const int32_t* off, int64_t nimg, const Direct* D, float* lanes) {
  __m512 acc[R][C];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 6
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_loadu_ps(lanes + (r * C + c) * 16);
  const int64_t nslots = static_cast<int64_t>(D->src.size());
  const int32_t *src = D->src.data(), *dst = D->dst.data();
  const uint16_t* mask = D->mask.data();
  for (int64_t n = 0; n < nimg; ++n) {
    const float* g = gy + n * gy_img;
    const float* x = xp + n * xp_img;
    for (int64_t s = 0; s < nslots; ++s) {
      __m512 gv[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) gv[r] = _mm512_maskz_loadu_ps(mask[s], g + r * P + dst[s]);
      const float* xs = x + src[s];
#pragma GCC unroll 6
      for (int c = 0; c < C; ++c) {
        __m512 xv = _mm512_loadu_ps(xs + off[c]);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(gv[r], xv, acc[r][c]);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 6
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(lanes + (r * C + c) * 16, acc[r][c]);
}

using WgradFn = void (*)(const float*, int64_t, int64_t, const float*, int64_t, const int32_t*, int64_t,
                         const Direct*, float*);
template <int R, int... Cs>
constexpr std::array<WgradFn, sizeof...(Cs)> wgrad_row(std::integer_sequence<int, Cs...>) {
  return {&wgrad_tile<R, Cs + 1>...};
}
// kWgrad[r-1][c-1]: the tile of r channels x c taps (edges of the channel and tap ranges).
const std::array<std::array<WgradFn, kGC>, kGR> kWgrad = {
    wgrad_row<1>(std::make_integer_sequence<int, kGC>{}),
    wgrad_row<2>(std::make_integer_sequence<int, kGC>{}),
    wgrad_row<3>(std::make_integer_sequence<int, kGC>{}),
    wgrad_row<4>(std::make_integer_sequence<int, kGC>{})};

}  // namespace

void set_direct_conv_enabled(bool on) { g_direct_enabled = on; }

// Images swept together by one weight-grad kernel call: up to kChunk, fewer for large images.
int64_t wgrad_chunk(const Direct& D) { return std::clamp<int64_t>(kMaxBuffer / D.xp_size, 1, kChunk); }

bool direct_conv_applies(const ConvGeom& G, DType dtype, ConvPass pass) {
  if (!g_direct_enabled || dtype != kFloat32 || G.sh != 1 || G.sw != 1 || !have_avx512()) return false;
  bool ig = pass == ConvPass::kInputGrad;
  if (ig && (G.ph > G.dh * (G.kh - 1) || G.pw > G.dw * (G.kw - 1))) return false;
  Direct D = ig ? input_grad_direct(G) : forward_direct(G);
  if (D.xp_size > kMaxBuffer || D.Co_pad * D.Kc > kMaxBuffer) return false;
  // The weight grad keeps 16 partial sums per weight.
  return pass != ConvPass::kWeightGrad || G.Cog() * D.Kc * 16 <= kMaxBuffer;
}

void direct_conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out,
                   const ConvGeom& G) {
  Direct D = forward_direct(G);
  make_slots(D);
  const float* px = static_cast<const float*>(x.raw_data());
  const float* pw = static_cast<const float*>(w.raw_data());  // contiguous [Co, Cg, kh, kw]
  float* po = static_cast<float*>(out.raw_data());
  const int64_t* xs = x.strides().data();
  Scratch<float> wpack(D.Co_pad * D.Kc), bpad(D.Co_pad);
  for (int64_t g = 0; g < G.groups; ++g) {
    const float* wg = pw + g * G.Cog() * D.Kc;
    pack_weights(
        D, [&](int64_t co, int64_t k) { return wg[co * D.Kc + k]; }, wpack.p);
    if (bias) {
      const float* pb = static_cast<const float*>(bias->raw_data());
      for (int64_t co = 0; co < D.Co_pad; ++co)
        bpad.p[co] = co < D.Cout ? pb[(g * G.Cog() + co) * bias->stride(0)] : 0.0f;
    }
    fwd_batch(
        D, G.N, wpack.p, bias ? bpad.p : nullptr, xs[1], xs[2], xs[3],
        [&](int64_t n) { return px + n * xs[0] + g * G.Cg() * xs[1]; },
        [&](int64_t n) { return po + (n * G.Co + g * G.Cog()) * G.HoWo(); });
  }
}

void direct_conv2d_input_grad(const Tensor& gy, const Tensor& w, const Tensor& gx, const ConvGeom& G) {
  // gx = stride-1 conv of gy (channels Cog -> Cg) with w'[ci][co][i][j] = w[co][ci][kh-1-i][kw-1-j].
  Direct D = input_grad_direct(G);
  make_slots(D);
  const float* pg = static_cast<const float*>(gy.raw_data());  // contiguous [N, Co, Ho, Wo]
  const float* pw = static_cast<const float*>(w.raw_data());
  float* px = static_cast<float*>(gx.raw_data());
  int64_t khw = G.kh * G.kw, P = G.HoWo();
  Scratch<float> wpack(D.Co_pad * D.Kc);
  for (int64_t g = 0; g < G.groups; ++g) {
    const float* wg = pw + g * G.Cog() * G.Kc();
    pack_weights(
        D,
        [&](int64_t ci, int64_t k) {
          int64_t co = k / khw, t = khw - 1 - k % khw;  // tap (i, j) flipped: (kh-1-i, kw-1-j)
          return wg[(co * G.Cg() + ci) * khw + t];
        },
        wpack.p);
    fwd_batch(
        D, G.N, wpack.p, nullptr, P, G.Wo, 1, [&](int64_t n) { return pg + (n * G.Co + g * G.Cog()) * P; },
        [&](int64_t n) { return px + (n * G.C + g * G.Cg()) * G.H * G.W; });
  }
}

void direct_conv2d_weight_grad(const Tensor& gy, const Tensor& x, const Tensor& gw, const ConvGeom& G) {
  Direct D = forward_direct(G);
  make_slots(D);
  const float* pg = static_cast<const float*>(gy.raw_data());  // contiguous [N, Co, Ho, Wo]
  const float* px = static_cast<const float*>(x.raw_data());
  const int64_t* xs = x.strides().data();
  float* pw = static_cast<float*>(gw.raw_data());
  std::vector<int32_t> off(D.Kc);
  tap_offsets(D, off.data());
  int64_t P = G.HoWo(), Cog = G.Cog();
  int64_t cblocks = (Cog + kGR - 1) / kGR, kblocks = (D.Kc + kGC - 1) / kGC;
  // Each lane accumulates images in order whatever the grouping, so how many images are padded
  // at once (`span`, bounded memory) and swept per kernel call (`chunk`, L1-sized) only affects
  // speed. Two parallel regions per span: few fork/joins, which matters on a loaded machine.
  const int64_t chunk = wgrad_chunk(D);
  const int64_t span = std::max(chunk, 4 * kMaxBuffer / D.xp_size / chunk * chunk);
  Scratch<float> lanes(Cog * D.Kc * 16), xp(std::min(span, G.N) * D.xp_size);
  for (int64_t g = 0; g < G.groups; ++g) {
    std::fill(lanes.p, lanes.p + Cog * D.Kc * 16, 0.0f);
    for (int64_t s0 = 0; s0 < G.N; s0 += span) {
      int64_t simg = std::min(span, G.N - s0);
      cpu::parallel_for(0, simg, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          pad_image(px + (s0 + i) * xs[0] + g * G.Cg() * xs[1], xs[1], xs[2], xs[3], D, xp.p + i * D.xp_size);
      });
      int64_t per_block = kGR * D.Kc * P * simg;
      cpu::parallel_for(0, cblocks, std::max<int64_t>(1, cpu::kGemmParallelWork / per_block),
                        [&](int64_t b, int64_t e) {
                          for (int64_t cb = b; cb < e; ++cb) {
                            int64_t r = std::min<int64_t>(kGR, Cog - cb * kGR);
                            for (int64_t n0 = 0; n0 < simg; n0 += chunk) {
                              int64_t nimg = std::min(chunk, simg - n0);
                              const float* gy0 = pg + ((s0 + n0) * G.Co + g * Cog + cb * kGR) * P;
                              for (int64_t kb = 0; kb < kblocks; ++kb) {
                                int64_t c = std::min<int64_t>(kGC, D.Kc - kb * kGC);
                                kWgrad[r - 1][c - 1](gy0, P, G.Co * P, xp.p + n0 * D.xp_size, D.xp_size,
                                                     off.data() + kb * kGC, nimg, &D,
                                                     lanes.p + (cb * kGR * D.Kc + kb * kGC * r) * 16);
                              }
                            }
                          }
                        });
    }
    // Sum each element's 16 lanes (fixed order) into gw.
    float* gwg = pw + g * Cog * D.Kc;
    for (int64_t cb = 0; cb < cblocks; ++cb) {
      int64_t r = std::min<int64_t>(kGR, Cog - cb * kGR);
      for (int64_t kb = 0; kb < kblocks; ++kb) {
        int64_t c = std::min<int64_t>(kGC, D.Kc - kb * kGC);
        const float* l = lanes.p + (cb * kGR * D.Kc + kb * kGC * r) * 16;
        for (int64_t rr = 0; rr < r; ++rr)
          for (int64_t cc = 0; cc < c; ++cc) {
            const float* v = l + (rr * c + cc) * 16;
            float sum = 0;
            for (int t = 0; t < 16; ++t) sum += v[t];
            gwg[(cb * kGR + rr) * D.Kc + kb * kGC + cc] = sum;
          }
      }
    }
  }
}

}  // namespace nabla::ops::conv_cpu
