// Fused pool_grad_conv2d_backward (made by graph/passes/fuse_conv_pool.cpp and by
// conv2d_relu_max_pool2d's VJP): the backward of a Conv2d -> ReLU -> MaxPool2d(2) layer whose input
// needs a gradient (every conv layer but the first): max_pool2d_grad, then conv2d_input_grad and
// conv2d_weight_bias_grad of its result.
//
// Why: the pool's input gradient, which both conv gradients read, is zero in at least 3 of every 4
// positions: a 2x2 window passes its gradient to its one winner, and to none where the ReLU clipped
// the pooled value. The dense kernels spend 4x the multiply-adds on those zeros (the seed CNN's
// second layer: 3 x 231M multiply-adds per step at batch 64, ~70% of the step). These kernels
// visit the winners only: for a winner at conv output (co, y, x) with gradient g,
//   gw[co][ci][i][j] += g * xpad[ci][y + i][x + j]     gx_pad[ci][y + i][x + j] += g * w[co][ci][i][j]
//   gb[co] += g
// with the input channels ci along the vector lanes: each image is transposed once into a
// channels-last zero-padded buffer (and its gradient accumulated in one) in the thread's cache.
// The pool's input gradient is never stored.
//
// The sums run in another order than the dense kernels' (results agree to rounding, not bit for
// bit), but in a fixed one: images in chunks of kChunk whatever the thread count (a partial weight
// gradient per chunk, chunks added in order at the end), images in order within a chunk, output
// channels and windows in order within an image. So no result depends on the thread count.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backend/cpu/parallel.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "ops/conv/conv.h"
#include "ops/conv/scratch.h"
#include "ops/linalg/gemm.h"

#define NABLA_AVX512 __attribute__((target("avx512f,fma")))

namespace nabla::ops::conv_cpu {
namespace {

constexpr int64_t kChunk = 8;   // images per partial weight gradient
constexpr int64_t kMaxC = 64;   // input channels the lanes take (4 vectors)
constexpr int64_t kMaxTaps = 25;

// Sizes of one call: the conv (stride 1, dilation 1), its padded input and the pooled grid.
struct Sparse {
  int64_t N, C, Cp, Co, kh, kw, ph, pw, H, W, Hp, Wp, Ho, Wo, PHo, PWo;
  int64_t taps() const { return kh * kw; }
  int64_t image() const { return Hp * Wp * Cp; }  // floats of one channels-last padded image
  int64_t wsize() const { return Co * taps() * Cp; }
};

Sparse sparse_geom(const ConvGeom& G, const PoolGeom& P) {
  Sparse S{G.N, G.C, (G.C + 15) / 16 * 16, G.Co, G.kh, G.kw, G.ph, G.pw, G.H, G.W,
           G.H + 2 * G.ph, G.W + 2 * G.pw, G.Ho, G.Wo, P.Ho, P.Wo};
  return S;
}

// The winners of one channel of one image: offsets of (y, x) in the padded channels-last buffer
// and their gradients; windows whose pooled value is not > 0 (ReLU) pass nothing.
struct Winners {
  const float* g;         // [PHo * PWo] of this channel
  const uint8_t* off;     // uint8 window offsets (2 dh + dw), or
  const int64_t* idx;     // int64 positions in the Ho x Wo plane
  const float* y;         // pooled values (ReLU mask), or null
};

int64_t collect(const Sparse& S, const Winners& w, int32_t* pos, float* gv) {
  const int64_t plane = S.PHo * S.PWo, row = S.Wp * S.Cp;
  int64_t m = 0;
  for (int64_t q = 0; q < plane; ++q) {
    if (w.y && !(w.y[q] > 0.0f)) continue;
    // Position of the winner in the conv's Ho x Wo output plane.
    const int64_t at = w.off ? window_position(q / S.PWo, q % S.PWo, w.off[q], S.Wo) : w.idx[q];
    pos[m] = static_cast<int32_t>(at / S.Wo * row + at % S.Wo * S.Cp);
    gv[m++] = w.g[q];
  }
  return m;
}

// One image: gw_acc [Co][taps][Cp] and gb_acc [Co] accumulate its weight and bias gradients,
// dxp (zeroed, [Hp][Wp][Cp]) receives its input gradient. kT: taps known at compile time (the
// accumulators then live in registers), or 0.
template <int NV, int kT>
NABLA_AVX512 void image_backward(const Sparse& S, const Winners& src, const float* wt, const float* xp,
                                 float* dxp, float* gw_acc, float* gb_acc, int32_t* pos, float* gv) {
  const int64_t T = kT ? kT : S.taps(), plane = S.PHo * S.PWo, Cp = S.Cp;
  int32_t tap[kMaxTaps];
  for (int64_t t = 0; t < T; ++t) tap[t] = static_cast<int32_t>(((t / S.kw) * S.Wp + t % S.kw) * Cp);
  for (int64_t co = 0; co < S.Co; ++co) {
    Winners w = src;
    w.g += co * plane;
    if (w.off) w.off += co * plane;
    if (w.idx) w.idx += co * plane;
    if (w.y) w.y += co * plane;
    const int64_t m = collect(S, w, pos, gv);
    float b = 0.0f;
    for (int64_t e = 0; e < m; ++e) b += gv[e];
    gb_acc[co] += b;
    float* gwc = gw_acc + co * T * Cp;
    const float* wc = wt + co * T * Cp;
    if constexpr (kT > 0) {
      __m512 acc[kT * NV];
#pragma GCC unroll 64
      for (int t = 0; t < kT * NV; ++t) acc[t] = _mm512_loadu_ps(gwc + (t / NV) * Cp + (t % NV) * 16);
      for (int64_t e = 0; e < m; ++e) {
        const __m512 g = _mm512_set1_ps(gv[e]);
        const float* base = xp + pos[e];
#pragma GCC unroll 64
        for (int t = 0; t < kT * NV; ++t)
          acc[t] = _mm512_fmadd_ps(g, _mm512_loadu_ps(base + tap[t / NV] + (t % NV) * 16), acc[t]);
      }
#pragma GCC unroll 64
      for (int t = 0; t < kT * NV; ++t) _mm512_storeu_ps(gwc + (t / NV) * Cp + (t % NV) * 16, acc[t]);
      __m512 wr[kT * NV];
#pragma GCC unroll 64
      for (int t = 0; t < kT * NV; ++t) wr[t] = _mm512_loadu_ps(wc + (t / NV) * Cp + (t % NV) * 16);
      for (int64_t e = 0; e < m; ++e) {
        const __m512 g = _mm512_set1_ps(gv[e]);
        float* base = dxp + pos[e];
#pragma GCC unroll 64
        for (int t = 0; t < kT * NV; ++t) {
          float* p = base + tap[t / NV] + (t % NV) * 16;
          _mm512_storeu_ps(p, _mm512_fmadd_ps(g, wr[t], _mm512_loadu_ps(p)));
        }
      }
    } else {
      for (int64_t e = 0; e < m; ++e) {
        const __m512 g = _mm512_set1_ps(gv[e]);
        const float* xb = xp + pos[e];
        float* db = dxp + pos[e];
        for (int64_t t = 0; t < T; ++t)
          for (int v = 0; v < NV; ++v) {
            float* a = gwc + t * Cp + v * 16;
            _mm512_storeu_ps(a, _mm512_fmadd_ps(g, _mm512_loadu_ps(xb + tap[t] + v * 16), _mm512_loadu_ps(a)));
            float* p = db + tap[t] + v * 16;
            _mm512_storeu_ps(p, _mm512_fmadd_ps(g, _mm512_loadu_ps(wc + t * Cp + v * 16), _mm512_loadu_ps(p)));
          }
      }
    }
  }
}

using ImageFn = void (*)(const Sparse&, const Winners&, const float*, const float*, float*, float*, float*,
                         int32_t*, float*);

template <int NV>
ImageFn pick_taps(int64_t taps) {
  if (taps == 9 && NV <= 2) return image_backward<NV, 9>;
  return image_backward<NV, 0>;
}

ImageFn pick(const Sparse& S) {
  switch (S.Cp / 16) {
    case 1:
      return pick_taps<1>(S.taps());
    case 2:
      return pick_taps<2>(S.taps());
    case 3:
      return image_backward<3, 0>;
    default:
      return image_backward<4, 0>;
  }
}

// Image n of x (any strides) into the interior of a zero-bordered channels-last buffer.
void to_channels_last(const float* x, const int64_t* xs, const Sparse& S, float* xp) {
  for (int64_t c = 0; c < S.C; ++c)
    for (int64_t h = 0; h < S.H; ++h) {
      const float* src = x + c * xs[1] + h * xs[2];
      float* dst = xp + ((h + S.ph) * S.Wp + S.pw) * S.Cp + c;
      for (int64_t w = 0; w < S.W; ++w) dst[w * S.Cp] = src[w * xs[3]];
    }
}

// The interior of a channels-last padded gradient into image n of contiguous gx [C, H, W].
void from_channels_last(const float* dxp, const Sparse& S, float* gx) {
  for (int64_t c = 0; c < S.C; ++c)
    for (int64_t h = 0; h < S.H; ++h) {
      const float* src = dxp + ((h + S.ph) * S.Wp + S.pw) * S.Cp + c;
      float* dst = gx + (c * S.H + h) * S.W;
      for (int64_t w = 0; w < S.W; ++w) dst[w] = src[w * S.Cp];
    }
}

}  // namespace

bool pool_grad_conv2d_backward_applies(const ConvGeom& G, const PoolGeom& P, DType dtype) {
  return dtype == kFloat32 && have_avx512() && G.groups == 1 && G.sh == 1 && G.sw == 1 && G.dh == 1 &&
         G.dw == 1 && G.C <= kMaxC && G.kh * G.kw <= kMaxTaps && is_2x2_window(P) && P.H == G.Ho &&
         P.W == G.Wo && G.N > 0 && G.Ho > 0 && G.Wo > 0 && G.C > 0 &&
         (G.H + 2 * G.ph) * (G.W + 2 * G.pw) * ((G.C + 15) / 16 * 16) < (int64_t{1} << 31);
}

int64_t pool_grad_conv2d_backward_workspace(const ConvGeom& G) {
  const int64_t Cp = (G.C + 15) / 16 * 16, wsize = G.Co * G.kh * G.kw * Cp;
  const int64_t image = (G.H + 2 * G.ph) * (G.W + 2 * G.pw) * Cp, chunks = (G.N + kChunk - 1) / kChunk;
  const int64_t plane = G.Ho / 2 * (G.Wo / 2);
  auto bytes = [](int64_t n) { return ws::reserved_bytes(n, 4); };  // floats and int32s
  return bytes(wsize) + bytes(chunks * wsize) + bytes(chunks * G.Co) + 2 * bytes(image) + 2 * bytes(plane);
}

// (x, w, g, indices[, y]) -> (gx, gw, gb); attrs: conv2d's i0..i6, the pool's i0..i5 in i7..i12.
void pool_grad_conv2d_backward(const Tensor* in, int n, Tensor* out, const Attrs& a) {
  const Tensor &x = in[0], &w = in[1], &idx = in[3];
  const Tensor* y = n == 5 ? &in[4] : nullptr;
  // The pooled gradient may arrive through a view (Keras' channels-last Flatten: a permute); the
  // kernels read a contiguous copy of it (a quarter of the size of what the fusion saves).
  Tensor g = in[2];
  if (!g.is_contiguous()) {
    NoGradGuard no_grad;
    g = g.contiguous();
  }
  const ConvGeom G = conv_geom(x.shape(), w.shape(), a);
  Attrs pa = fused_pool_attrs(a);
  const PoolGeom P = pool_geom(Shape{G.N, G.Co, G.Ho, G.Wo}, pa);
  const bool fast = pool_grad_conv2d_backward_applies(G, P, x.dtype()) && w.dtype() == kFloat32 &&
                    w.is_contiguous() && g.is_contiguous() && idx.is_contiguous() && (!y || y->is_contiguous()) &&
                    out[0].is_contiguous();
  if (!fast) {
    // The unfused kernels, one after the other.
    pa.shape = Shape{G.N, G.Co, G.Ho, G.Wo};
    Tensor gy = empty(pa.shape, g.dtype());
    Tensor pool_in[3] = {g, idx, y ? *y : Tensor()};
    max_pool2d_grad(pool_in, y ? 3 : 2, &gy, pa);
    Attrs ia = a;
    ia.shape = x.shape();
    Tensor input_grad_in[2] = {gy, w};
    conv2d_input_grad(input_grad_in, 2, &out[0], ia);
    Attrs wa = a;
    wa.shape = w.shape();
    Tensor wgrad_in[2] = {gy, x};
    conv2d_weight_bias_grad(wgrad_in, 2, &out[1], wa);
    return;
  }
  const Sparse S = sparse_geom(G, P);
  const int64_t T = S.taps(), Cp = S.Cp, wsize = S.wsize(), plane = S.PHo * S.PWo;
  const int64_t chunks = (S.N + kChunk - 1) / kChunk;
  // Weights as [Co][taps][Cp], channels zero-padded.
  Scratch<float> wt(wsize), part(chunks * wsize), bpart(chunks * S.Co);
  const float* pw = static_cast<const float*>(w.raw_data());
  std::fill(wt.p, wt.p + wsize, 0.0f);
  for (int64_t co = 0; co < S.Co; ++co)
    for (int64_t c = 0; c < S.C; ++c)
      for (int64_t t = 0; t < T; ++t) wt.p[(co * T + t) * Cp + c] = pw[(co * S.C + c) * T + t];
  std::fill(part.p, part.p + chunks * wsize, 0.0f);
  std::fill(bpart.p, bpart.p + chunks * S.Co, 0.0f);
  const float* px = static_cast<const float*>(x.raw_data());
  const int64_t* xs = x.strides().data();
  const float* pg = static_cast<const float*>(g.raw_data());
  const bool offsets = idx.dtype() == kUInt8;
  const float* py = y ? static_cast<const float*>(y->raw_data()) : nullptr;
  float* gx = static_cast<float*>(out[0].raw_data());
  const ImageFn image_fn = pick(S);
  const int64_t per_chunk = kChunk * S.Co * plane * T * Cp;
  cpu::parallel_for(0, chunks, std::max<int64_t>(1, cpu::kGemmParallelWork / per_chunk), [&](int64_t b, int64_t e) {
    Scratch<float> xp(S.image()), dxp(S.image()), gv(plane);
    Scratch<int32_t> pos(plane);
    std::fill(xp.p, xp.p + S.image(), 0.0f);  // the border stays zero
    for (int64_t k = b; k < e; ++k)
      for (int64_t i = k * kChunk, end = std::min(S.N, (k + 1) * kChunk); i < end; ++i) {
        to_channels_last(px + i * xs[0], xs, S, xp.p);
        std::fill(dxp.p, dxp.p + S.image(), 0.0f);
        const int64_t o = i * S.Co * plane;
        Winners src{pg + o, offsets ? static_cast<const uint8_t*>(idx.raw_data()) + o : nullptr,
                    offsets ? nullptr : static_cast<const int64_t*>(idx.raw_data()) + o, py ? py + o : nullptr};
        image_fn(S, src, wt.p, xp.p, dxp.p, part.p + k * wsize, bpart.p + k * S.Co, pos.p, gv.p);
        from_channels_last(dxp.p, S, gx + i * S.C * S.H * S.W);
      }
  });
  // Chunks added in order; [Co][taps][Cp] back to [Co][C][kh][kw].
  float* gw = static_cast<float*>(out[1].raw_data());
  float* gb = static_cast<float*>(out[2].raw_data());
  for (int64_t co = 0; co < S.Co; ++co) {
    float v = bpart.p[co];
    for (int64_t k = 1; k < chunks; ++k) v += bpart.p[k * S.Co + co];
    gb[co] = v;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < S.C; ++c) {
        const int64_t at = (co * T + t) * Cp + c;
        float s = part.p[at];
        for (int64_t k = 1; k < chunks; ++k) s += part.p[k * wsize + at];
        gw[(co * S.C + c) * T + t] = s;
      }
  }
}

}  // namespace nabla::ops::conv_cpu
