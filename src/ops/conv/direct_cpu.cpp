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
//   weight grad: gw[co][tap] = sum over images and positions of gy[co][p] * xp[off[tap] + p], with
//                gy transposed per image so that 16 output channels share a vector: tiles of
//                4 vectors (64 channels) x 6 taps, each weight summed in one lane, images in order
//                within fixed chunks of 32 images whose sums are added in order; the bias grad
//                (conv2d_weight_bias_grad) is summed from the same transposed gy.
// Every output element is produced by one fixed sequence of operations (the split across threads
// is over images, fixed image chunks or output-channel blocks only), so results do not depend on
// the thread count. Few taps per channel (the first layer): wgrad_small_cpu.cpp instead.
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

constexpr int kRB = 8;          // forward: output channels per tile
constexpr int kNV = 2;          // forward: 16-float vectors of positions per tile
constexpr int kGR = 4;          // weight grad: 16-channel vectors per tile
constexpr int kGC = 6;          // weight grad: taps per tile
constexpr int64_t kRows = 7;    // weight grad: output rows per sweep (the gyT block stays in L1)
constexpr int64_t kChunk = 32;  // weight grad: images per chunk (partial sums added at the end)
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

// ---- weight grad tile: acc[r][c] (16 output channels each) += sum over positions of
// gyT[p][16 r ..] * xp[off[c] + p], positions p = (oh, ow) over rows [r0, r1) of one image ----
template <int R, int C>
NABLA_AVX512 void wgrad_tile(const float* gyT, int64_t co_stride, const float* xp, const int32_t* off,
                             int64_t r0, int64_t r1, int64_t Wo, int64_t Wp, float* acc_mem) {
  __m512 acc[R][C];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_loadu_ps(acc_mem + (r * C + c) * 16);
  for (int64_t oh = r0; oh < r1; ++oh) {
    const float* g = gyT + oh * Wo * co_stride;
    const float* xrow = xp + oh * Wp;
    for (int64_t ow = 0; ow < Wo; ++ow, g += co_stride) {
      __m512 gv[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) gv[r] = _mm512_loadu_ps(g + 16 * r);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        __m512 xv = _mm512_set1_ps(xrow[off[c] + ow]);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(gv[r], xv, acc[r][c]);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(acc_mem + (r * C + c) * 16, acc[r][c]);
}

using WgradFn = void (*)(const float*, int64_t, const float*, const int32_t*, int64_t, int64_t, int64_t,
                         int64_t, float*);
template <int R, int... Cs>
constexpr std::array<WgradFn, sizeof...(Cs)> wgrad_row(std::integer_sequence<int, Cs...>) {
  return {&wgrad_tile<R, Cs + 1>...};
}
// kWgrad[r-1][c-1]: the tile of 16 r output channels x c taps.
const std::array<std::array<WgradFn, kGC>, kGR> kWgrad = {
    wgrad_row<1>(std::make_integer_sequence<int, kGC>{}),
    wgrad_row<2>(std::make_integer_sequence<int, kGC>{}),
    wgrad_row<3>(std::make_integer_sequence<int, kGC>{}),
    wgrad_row<4>(std::make_integer_sequence<int, kGC>{})};

// gyT[p][co] = gy[co][p] for one image, channels padded with zeros to co_stride (a multiple of
// 16): 16 x 16 blocks transposed in registers (unpack, then 32-bit and 128-bit lane shuffles).
NABLA_AVX512 void transpose_gy(const float* gy, int64_t Co, int64_t P, int64_t co_stride, float* gyT) {
  for (int64_t c0 = 0; c0 < co_stride; c0 += 16)
    for (int64_t p0 = 0; p0 < P; p0 += 16) {
      int64_t np = std::min<int64_t>(16, P - p0);
      __mmask16 m = static_cast<__mmask16>((1u << np) - 1);
      __m512 r[16], t[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        r[i] = c0 + i < Co ? _mm512_maskz_loadu_ps(m, gy + (c0 + i) * P + p0) : _mm512_setzero_ps();
#pragma GCC unroll 8
      for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
      }
      // r[4a + k], 128-bit lane l: rows 4a..4a+3 of column 4l + k.
#pragma GCC unroll 4
      for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
      }
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        t[k] = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x88);
        t[4 + k] = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xDD);
        t[8 + k] = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x88);
        t[12 + k] = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xDD);
      }
      __m512 col[16];
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        col[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);
        col[8 + k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xDD);
        col[4 + k] = _mm512_shuffle_f32x4(t[4 + k], t[12 + k], 0x88);
        col[12 + k] = _mm512_shuffle_f32x4(t[4 + k], t[12 + k], 0xDD);
      }
      for (int64_t j = 0; j < np; ++j) _mm512_storeu_ps(gyT + (p0 + j) * co_stride + c0, col[j]);
    }
}

}  // namespace

void set_direct_conv_enabled(bool on) { g_direct_enabled = on; }
bool direct_conv_enabled() { return g_direct_enabled; }

// Weight grad buffers: images padded and transposed together (bounded memory).
int64_t wgrad_span(const Direct& D, int64_t co_stride) {
  int64_t per_image = D.xp_size + D.Ho * D.Wo * co_stride;
  return std::clamp<int64_t>(kMaxBuffer / per_image, 1, 16);
}

bool direct_conv_applies(const ConvGeom& G, DType dtype, ConvPass pass) {
  if (!g_direct_enabled || dtype != kFloat32 || G.sh != 1 || G.sw != 1 || !have_avx512()) return false;
  bool ig = pass == ConvPass::kInputGrad;
  if (ig && (G.ph > G.dh * (G.kh - 1) || G.pw > G.dw * (G.kw - 1))) return false;
  Direct D = ig ? input_grad_direct(G) : forward_direct(G);
  if (D.xp_size > kMaxBuffer || D.Co_pad * D.Kc > kMaxBuffer) return false;
  // The weight grad keeps one transposed output gradient per image and an accumulator per weight.
  int64_t co_stride = round_up(G.Cog(), 16);
  return pass != ConvPass::kWeightGrad ||
         (co_stride * D.Kc <= kMaxBuffer && D.Ho * D.Wo * co_stride <= kMaxBuffer);
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

void direct_conv2d_each_image(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvGeom& G,
                              const ImageSink& sink) {
  NABLA_CHECK(G.groups == 1, "direct_conv2d_each_image: groups must be 1, got ", G.groups);
  Direct D = forward_direct(G);
  make_slots(D);
  const float* px = static_cast<const float*>(x.raw_data());
  const float* pw = static_cast<const float*>(w.raw_data());  // contiguous [Co, C, kh, kw]
  const int64_t* xs = x.strides().data();
  Scratch<float> wpack(D.Co_pad * D.Kc), bpad(D.Co_pad);
  pack_weights(
      D, [&](int64_t co, int64_t k) { return pw[co * D.Kc + k]; }, wpack.p);
  if (bias) {
    const float* pb = static_cast<const float*>(bias->raw_data());
    for (int64_t co = 0; co < D.Co_pad; ++co) bpad.p[co] = co < D.Cout ? pb[co * bias->stride(0)] : 0.0f;
  }
  std::vector<int32_t> off(D.Kc);
  tap_offsets(D, off.data());
  // The same images-per-thread grain as fwd_batch; each thread reuses one output buffer, so an
  // image's [Co, Ho, Wo] result is still in its cache when the sink reads it.
  int64_t per_image = std::max<int64_t>(1, D.Co_pad * D.Kc * D.Ho * D.Wo);
  cpu::parallel_for(0, G.N, std::max<int64_t>(1, cpu::kGemmParallelWork / per_image), [&](int64_t b, int64_t e) {
    Scratch<float> xp(D.xp_size), out(D.Cout * D.Ho * D.Wo);
    for (int64_t n = b; n < e; ++n) {
      pad_image(px + n * xs[0], xs[1], xs[2], xs[3], D, xp.p);
      fwd_image(D, xp.p, off.data(), wpack.p, bias ? bpad.p : nullptr, out.p);
      sink(n, out.p);
    }
  });
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

// gw[co][tap] = sum over images n and positions p of gy[n][co][p] * xp_n[off[tap] + p]: output
// channels along the vector lanes (gy transposed per image), taps along the registers of a tile.
// The batch is cut into fixed chunks of kChunk images (whatever the thread count); each weight is
// one lane of one accumulator per chunk that adds the chunk's images and positions in order, and
// the chunks' sums are added in order at the end. Threads take whole chunks when there are several
// (each thread then pads and transposes the images it reads itself, in its own cache), else
// the tiles of the one chunk; either way no result depends on the thread count.
void direct_conv2d_weight_grad(const Tensor& gy, const Tensor& x, const Tensor& gw, const ConvGeom& G,
                               float* gb) {
  Direct D = forward_direct(G);
  const float* pg = static_cast<const float*>(gy.raw_data());  // contiguous [N, Co, Ho, Wo]
  const float* px = static_cast<const float*>(x.raw_data());
  const int64_t* xs = x.strides().data();
  float* pw = static_cast<float*>(gw.raw_data());
  std::vector<int32_t> off(D.Kc);
  tap_offsets(D, off.data());
  const int64_t P = G.HoWo(), Cog = G.Cog(), cs = round_up(Cog, 16);
  // Tiles: up to 4 vectors (64 channels) x up to kGC taps, taps spread evenly over the blocks.
  const int64_t cblocks = (cs / 16 + kGR - 1) / kGR;
  const int64_t kblocks = (D.Kc + kGC - 1) / kGC, kc = (D.Kc + kblocks - 1) / kblocks;
  const int64_t ntiles = cblocks * kblocks, tile_size = kGR * kGC * 16, acc_size = ntiles * tile_size;
  const int64_t span = std::min(wgrad_span(D, cs), kChunk), gyT_size = P * cs;
  const int64_t nchunks = (G.N + kChunk - 1) / kChunk;
  Scratch<float> acc(nchunks * acc_size), bacc(gb ? nchunks * cs : 0);
  // Images [n0, n1) of one chunk into the accumulators acc_c (and the bias sums bacc_c: per image
  // the sum of its transposed gy rows, then images added in order).
  auto run_chunk = [&](int64_t g, int64_t n0, int64_t n1, float* acc_c, float* bacc_c, bool split_tiles) {
    int64_t simg_max = std::min(span, n1 - n0);
    Scratch<float> xp(simg_max * D.xp_size), gyT(simg_max * gyT_size), bimg(gb ? simg_max * cs : 0);
    auto add_bias = [&](int64_t simg) {
      for (int64_t i = 0; i < simg; ++i)
        for (int64_t co = 0; co < cs; ++co) bacc_c[co] += bimg.p[i * cs + co];
    };
    for (int64_t s0 = n0; s0 < n1; s0 += span) {
      int64_t simg = std::min(span, n1 - s0);
      auto prepare = [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          pad_image(px + (s0 + i) * xs[0] + g * G.Cg() * xs[1], xs[1], xs[2], xs[3], D, xp.p + i * D.xp_size);
          transpose_gy(pg + ((s0 + i) * G.Co + g * Cog) * P, Cog, P, cs, gyT.p + i * gyT_size);
          if (!gb) continue;
          float* bs = bimg.p + i * cs;
          const float* row = gyT.p + i * gyT_size;
          std::fill(bs, bs + cs, 0.0f);
          for (int64_t p = 0; p < P; ++p, row += cs)
            for (int64_t co = 0; co < cs; ++co) bs[co] += row[co];
        }
      };
      auto tiles = [&](int64_t b, int64_t e) {
        for (int64_t i = 0; i < simg; ++i)
          for (int64_t r0 = 0; r0 < G.Ho; r0 += kRows)
            for (int64_t t = b; t < e; ++t) {
              int64_t cb = t / kblocks, kb = t % kblocks;
              int64_t r = std::min<int64_t>(kGR, cs / 16 - cb * kGR), c = std::min(kc, D.Kc - kb * kc);
              kWgrad[r - 1][c - 1](gyT.p + i * gyT_size + cb * kGR * 16, cs, xp.p + i * D.xp_size,
                                   off.data() + kb * kc, r0, std::min(G.Ho, r0 + kRows), G.Wo, D.Wp,
                                   acc_c + t * tile_size);
            }
      };
      if (!split_tiles) {
        prepare(0, simg);
        if (gb) add_bias(simg);
        tiles(0, ntiles);
        continue;
      }
      cpu::parallel_for(0, simg, 1, prepare);
      if (gb) add_bias(simg);
      int64_t per_tile = kGR * 16 * kc * P * simg;
      cpu::parallel_for(0, ntiles, std::max<int64_t>(1, cpu::kGemmParallelWork / per_tile), tiles);
    }
  };
  for (int64_t g = 0; g < G.groups; ++g) {
    std::fill(acc.p, acc.p + nchunks * acc_size, 0.0f);
    if (gb) std::fill(bacc.p, bacc.p + nchunks * cs, 0.0f);
    if (nchunks == 1) {
      run_chunk(g, 0, G.N, acc.p, bacc.p, true);
    } else {
      cpu::parallel_for(0, nchunks, 1, [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k)
          run_chunk(g, k * kChunk, std::min(G.N, (k + 1) * kChunk), acc.p + k * acc_size, bacc.p + k * cs,
                    false);
      });
    }
    if (gb)
      for (int64_t co = 0; co < Cog; ++co) {
        float v = bacc.p[co];
        for (int64_t k = 1; k < nchunks; ++k) v += bacc.p[k * cs + co];
        gb[g * Cog + co] = v;
      }
    // acc tile t holds [r][c][16 lanes]: weight (cb * 64 + 16 r + lane, kb * kc + c), per chunk.
    float* gwg = pw + g * Cog * D.Kc;
    for (int64_t t = 0; t < ntiles; ++t) {
      int64_t cb = t / kblocks, kb = t % kblocks;
      int64_t r = std::min<int64_t>(kGR, cs / 16 - cb * kGR), c = std::min(kc, D.Kc - kb * kc);
      for (int64_t rr = 0; rr < r; ++rr)
        for (int64_t cc = 0; cc < c; ++cc)
          for (int64_t lane = 0; lane < 16; ++lane) {
            int64_t co = cb * kGR * 16 + rr * 16 + lane, at = t * tile_size + (rr * c + cc) * 16 + lane;
            if (co >= Cog) continue;
            float v = acc.p[at];
            for (int64_t k = 1; k < nchunks; ++k) v += acc.p[k * acc_size + at];
            gwg[co * D.Kc + kb * kc + cc] = v;
          }
    }
  }
}

}  // namespace nabla::ops::conv_cpu
