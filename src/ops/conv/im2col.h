// Internal: im2col and its adjoint for the conv kernels (conv_cpu.cpp's GEMM path and the small-tap
// weight grad in wgrad_small_cpu.cpp).
#pragma once
#include <algorithm>

#include "ops/conv/conv.h"

namespace nabla::ops::conv_cpu {

// Output positions o in [0, n_out) whose input index o*stride + off lies in [0, n_in).
inline void valid_range(int64_t n_out, int64_t n_in, int64_t stride, int64_t off, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = n_in - off <= 0 ? 0 : (n_in - off + stride - 1) / stride;
  lo = std::min(lo, n_out);
  hi = std::clamp(hi, lo, n_out);
}

// col[(c*kh + i)*kw + j][oh*Wo + ow] = x[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (0 outside).
template <typename T>
inline void im2col(const T* x, int64_t xs1, int64_t xs2, int64_t xs3, const ConvGeom& G, T* col) {
  for (int64_t c = 0; c < G.Cg(); ++c)
    for (int64_t i = 0; i < G.kh; ++i)
      for (int64_t j = 0; j < G.kw; ++j) {
        T* dst = col + ((c * G.kh + i) * G.kw + j) * G.HoWo();
        int64_t ow_lo, ow_hi, woff = j * G.dw - G.pw;
        valid_range(G.Wo, G.W, G.sw, woff, ow_lo, ow_hi);
        for (int64_t oh = 0; oh < G.Ho; ++oh, dst += G.Wo) {
          int64_t ih = oh * G.sh - G.ph + i * G.dh;
          if (ih < 0 || ih >= G.H) {
            std::fill(dst, dst + G.Wo, T(0));
            continue;
          }
          std::fill(dst, dst + ow_lo, T(0));
          const T* src = x + c * xs1 + ih * xs2 + (ow_lo * G.sw + woff) * xs3;
          int64_t step = G.sw * xs3;
          for (int64_t ow = ow_lo; ow < ow_hi; ++ow, src += step) dst[ow] = *src;
          std::fill(dst + ow_hi, dst + G.Wo, T(0));
        }
      }
}

// The adjoint of im2col: gx[c, ih, iw] += col[...] (gx contiguous [Cg, H, W]).
template <typename T>
inline void col2im(const T* col, const ConvGeom& G, T* gx) {
  for (int64_t c = 0; c < G.Cg(); ++c)
    for (int64_t i = 0; i < G.kh; ++i)
      for (int64_t j = 0; j < G.kw; ++j) {
        const T* src = col + ((c * G.kh + i) * G.kw + j) * G.HoWo();
        int64_t ow_lo, ow_hi, woff = j * G.dw - G.pw;
        valid_range(G.Wo, G.W, G.sw, woff, ow_lo, ow_hi);
        for (int64_t oh = 0; oh < G.Ho; ++oh, src += G.Wo) {
          int64_t ih = oh * G.sh - G.ph + i * G.dh;
          if (ih < 0 || ih >= G.H) continue;
          T* dst = gx + (c * G.H + ih) * G.W + ow_lo * G.sw + woff;
          for (int64_t ow = ow_lo; ow < ow_hi; ++ow, dst += G.sw) *dst += src[ow];
        }
      }
}

}  // namespace nabla::ops::conv_cpu
