// CPU convolution: im2col + one GEMM per (image, group), parallel over images.
//
// Every (image, group) product is the same fixed set of single-threaded BLAS calls whatever the
// thread count (see ops/linalg/gemm.h), and the weight gradient sums images in a fixed order, so
// results do not depend on the number of threads.
#include <algorithm>

#include "ops/conv/conv.h"
#include "ops/conv/im2col.h"
#include "ops/conv/scratch.h"
#include "ops/linalg/gemm.h"
#include "ops/linalg/widen.h"

namespace nabla::ops::conv_cpu {
namespace {

using cpu::GemmShape;

Tensor contiguous_nograd(const Tensor& t) {
  if (t.is_contiguous()) return t;
  NoGradGuard no_grad;
  return t.contiguous();
}


// Images per parallel chunk: enough multiply-adds to pay for a thread.
int64_t image_grain(const ConvGeom& G) {
  int64_t per_image = std::max<int64_t>(1, G.Co * G.Kc() * G.HoWo());
  return std::max<int64_t>(1, cpu::kGemmParallelWork / per_image);
}

template <typename T>
void conv2d_typed(const Tensor& x_in, const Tensor& w_in, const Tensor* bias, const Tensor& out,
                  const Attrs& a) {
  ConvGeom G = conv_geom(x_in.shape(), w_in.shape(), a);
  bool pw = is_pointwise(G);
  Tensor w = contiguous_nograd(w_in), x = pw ? contiguous_nograd(x_in) : x_in;
  if constexpr (std::is_same_v<T, float>) {
    if (!pw && direct_conv_applies(G, kFloat32, ConvPass::kForward)) return direct_conv2d(x, w, bias, out, G);
  }
  int64_t Kc = G.Kc(), P = G.HoWo(), Cog = G.Cog(), Cg = G.Cg();
  const T* px = static_cast<const T*>(x.raw_data());
  const T* pw8 = static_cast<const T*>(w.raw_data());
  const T* pb = bias ? static_cast<const T*>(bias->raw_data()) : nullptr;
  int64_t bs = bias ? bias->stride(0) : 0;
  T* po = static_cast<T*>(out.raw_data());
  const int64_t* xs = x.strides().data();
  GemmShape s{Cog, P, Kc, {true, false, Kc}, {true, false, P}, P};
  auto image = [&](int64_t n, T* col) {
    for (int64_t g = 0; g < G.groups; ++g) {
      T* C = po + (n * G.Co + g * Cog) * P;
      for (int64_t o = 0; o < Cog; ++o)
        std::fill(C + o * P, C + (o + 1) * P, pb ? pb[(g * Cog + o) * bs] : T(0));
      if (Kc == 0) continue;
      const T* B = px + n * xs[0] + g * Cg * xs[1];
      if (!pw) {
        im2col(B, xs[1], xs[2], xs[3], G, col);
        B = col;
      }
      cpu::gemm<T>(s, pw8 + g * Cog * Kc, B, T(1), C);
    }
  };
  cpu::parallel_for(0, G.N, image_grain(G), [&](int64_t b, int64_t e) {
    Scratch<T> col(pw ? 0 : Kc * P);
    for (int64_t n = b; n < e; ++n) image(n, col.p);
  });
}

template <typename T>
void input_grad_typed(const Tensor& g_in, const Tensor& w_in, const Tensor& gx, const Attrs& a) {
  ConvGeom G = conv_geom(gx.shape(), w_in.shape(), a);
  bool pw = is_pointwise(G);
  Tensor go = contiguous_nograd(g_in), w = contiguous_nograd(w_in);
  if constexpr (std::is_same_v<T, float>) {
    if (!pw && direct_conv_applies(G, kFloat32, ConvPass::kInputGrad))
      return direct_conv2d_input_grad(go, w, gx, G);
  }
  int64_t Kc = G.Kc(), P = G.HoWo(), Cog = G.Cog(), Cg = G.Cg(), HW = G.H * G.W;
  const T* pg = static_cast<const T*>(go.raw_data());
  const T* pw8 = static_cast<const T*>(w.raw_data());
  T* px = static_cast<T*>(gx.raw_data());
  // col [Kc, P] = W_g^T [Kc, Cog] @ g [Cog, P]; then scattered back onto the input (col2im).
  GemmShape s{Kc, P, Cog, {true, true, Kc}, {true, false, P}, P};
  auto image = [&](int64_t n, T* col) {
    for (int64_t g = 0; g < G.groups; ++g) {
      T* dst = px + (n * G.C + g * Cg) * HW;
      const T* A = pw8 + g * Cog * Kc;
      const T* B = pg + (n * G.Co + g * Cog) * P;
      if (Cog == 0) {
        std::fill(dst, dst + Cg * HW, T(0));
      } else if (pw) {
        cpu::gemm<T>(s, A, B, T(0), dst);
      } else {
        cpu::gemm<T>(s, A, B, T(0), col);
        std::fill(dst, dst + Cg * HW, T(0));
        col2im(col, G, dst);
      }
    }
  };
  cpu::parallel_for(0, G.N, image_grain(G), [&](int64_t b, int64_t e) {
    Scratch<T> col(pw ? 0 : Kc * P);
    for (int64_t n = b; n < e; ++n) image(n, col.p);
  });
}

// gb (conv2d_weight_bias_grad's second output, [Co] contiguous) or null: the float32 kernels add
// it up while they read gy; the other paths take gy.sum({0, 2, 3}).
template <typename T>
void weight_grad_typed(const Tensor& g_in, const Tensor& x_in, const Tensor& gw, const Attrs& a,
                       const Tensor* gb = nullptr) {
  ConvGeom G = conv_geom(x_in.shape(), gw.shape(), a);
  bool pw = is_pointwise(G);
  Tensor go = contiguous_nograd(g_in), x = pw ? contiguous_nograd(x_in) : x_in;
  if constexpr (std::is_same_v<T, float>) {
    float* pb = gb ? static_cast<float*>(gb->raw_data()) : nullptr;
    if (!pw && G.N > 0 && small_wgrad_applies(G, kFloat32)) return small_conv2d_weight_grad(go, x, gw, G, pb);
    if (!pw && G.N > 0 && direct_conv_applies(G, kFloat32, ConvPass::kWeightGrad))
      return direct_conv2d_weight_grad(go, x, gw, G, pb);
  }
  if (gb) {
    NoGradGuard no_grad;
    Tensor(*gb).copy_(go.sum({0, 2, 3}));
  }
  int64_t Kc = G.Kc(), P = G.HoWo(), Cog = G.Cog(), Cg = G.Cg();
  const T* pg = static_cast<const T*>(go.raw_data());
  const T* px = static_cast<const T*>(x.raw_data());
  const int64_t* xs = x.strides().data();
  T* pw8 = static_cast<T*>(gw.raw_data());
  if (G.N == 0) {
    std::fill(pw8, pw8 + gw.numel(), T(0));
    return;
  }
  // gw_g [Cog, Kc] = sum over images of g [Cog, P] @ col^T [P, Kc], images in order.
  GemmShape s{Cog, Kc, P, {true, false, P}, {true, true, P}, Kc};
  Scratch<T> col(pw ? 0 : Kc * P);
  for (int64_t n = 0; n < G.N; ++n)
    for (int64_t g = 0; g < G.groups; ++g) {
      const T* B = px + n * xs[0] + g * Cg * xs[1];
      if (!pw) {
        im2col(B, xs[1], xs[2], xs[3], G, col.p);
        B = col.p;
      }
      cpu::gemm<T>(s, pg + (n * G.Co + g * Cog) * P, B, n == 0 ? T(0) : T(1), pw8 + g * Cog * Kc);
    }
}

// Calls body<T> for float/double and through float32 copies for float16/bfloat16.
template <template <typename> class Body>
void by_float_dtype(const Tensor* in, int n, const Tensor& out, const Attrs& a) {
  if (out.numel() == 0) return;
  switch (out.dtype()) {
    case kFloat32:
      Body<float>::run(in, n, out, a);
      break;
    case kFloat64:
      Body<double>::run(in, n, out, a);
      break;
    default:
      run_in_float32(in, n, out, [&](const Tensor* f, const Tensor& o) { Body<float>::run(f, n, o, a); });
  }
}
template <typename T>
struct Conv {
  static void run(const Tensor* in, int n, const Tensor& o, const Attrs& a) {
    conv2d_typed<T>(in[0], in[1], n == 3 ? &in[2] : nullptr, o, a);
  }
};
template <typename T>
struct InputGrad {
  static void run(const Tensor* in, int, const Tensor& o, const Attrs& a) {
    input_grad_typed<T>(in[0], in[1], o, a);
  }
};
template <typename T>
struct WeightGrad {
  static void run(const Tensor* in, int, const Tensor& o, const Attrs& a) {
    weight_grad_typed<T>(in[0], in[1], o, a);
  }
};
template <typename T>
struct WeightBiasGrad {
  static void run(const Tensor* in, int, const Tensor& o, const Attrs& a, const Tensor& gb) {
    weight_grad_typed<T>(in[0], in[1], o, a, &gb);
  }
};

}  // namespace

void conv2d(const Tensor* in, int n, Tensor* out, const Attrs& a) { by_float_dtype<Conv>(in, n, out[0], a); }
void conv2d_input_grad(const Tensor* in, int n, Tensor* out, const Attrs& a) {
  by_float_dtype<InputGrad>(in, n, out[0], a);
}
void conv2d_weight_grad(const Tensor* in, int n, Tensor* out, const Attrs& a) {
  by_float_dtype<WeightGrad>(in, n, out[0], a);
}
void conv2d_weight_bias_grad(const Tensor* in, int n, Tensor* out, const Attrs& a) {
  if (out[0].numel() == 0 || out[0].dtype() != kFloat32) {  // float32 is the type with fused kernels
    by_float_dtype<WeightGrad>(in, n, out[0], a);
    if (out[1].numel() == 0) return;
    NoGradGuard no_grad;
    out[1].copy_(in[0].sum({0, 2, 3}));
    return;
  }
  WeightBiasGrad<float>::run(in, n, out[0], a, out[1]);
}

}  // namespace nabla::ops::conv_cpu
