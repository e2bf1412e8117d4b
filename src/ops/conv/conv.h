// Internal: geometry of conv/pool calls and the CPU kernels of the conv family.
//
// Attrs use (op_list.def): conv ops i0/i1 stride, i2/i3 padding, i4/i5 dilation, i6 groups;
// pool ops i0/i1 kernel, i2/i3 stride, i4/i5 padding; adaptive pool i0/i1 output size.
// The *_grad ops carry the shape of the tensor they produce (input or weight) in attrs.shape.
#pragma once
#include <functional>

#include "ops/registry.h"

namespace nabla::ops {

/// Output length of a sliding window: floor((in + 2 pad - span) / stride) + 1, <= 0 when it does not fit.
inline int64_t window_out(int64_t in, int64_t pad, int64_t span, int64_t stride) {
  int64_t room = in + 2 * pad - span;
  return room < 0 ? 0 : room / stride + 1;
}

/// Sizes of one conv2d call, from the input shape [N, C, H, W] and weight shape [Co, C/g, kh, kw].
struct ConvGeom {
  int64_t N, C, H, W, Co, kh, kw, groups;
  int64_t sh, sw, ph, pw, dh, dw;
  int64_t Ho, Wo;
  int64_t Cg() const { return C / groups; }
  int64_t Cog() const { return Co / groups; }
  int64_t Kc() const { return Cg() * kh * kw; }  // rows of one group's im2col matrix
  int64_t HoWo() const { return Ho * Wo; }
};
inline ConvGeom conv_geom(const Shape& x, const Shape& w, const Attrs& a) {
  ConvGeom g{x[0],   x[1],   x[2],   x[3],   w[0],   w[2],   w[3], a.i[6],
             a.i[0], a.i[1], a.i[2], a.i[3], a.i[4], a.i[5], 0,    0};
  g.Ho = window_out(g.H, g.ph, g.dh * (g.kh - 1) + 1, g.sh);
  g.Wo = window_out(g.W, g.pw, g.dw * (g.kw - 1) + 1, g.sw);
  return g;
}

/// 1x1 kernel, stride 1, no padding: the contiguous input planes are the im2col matrix (the conv
/// kernels take their GEMM path for these).
inline bool is_pointwise(const ConvGeom& G) {
  return G.kh == 1 && G.kw == 1 && G.sh == 1 && G.sw == 1 && G.ph == 0 && G.pw == 0;
}

/// Sizes of one pooling window sweep over [N, C, H, W].
struct PoolGeom {
  int64_t planes, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo;
};
inline PoolGeom pool_geom(const Shape& x, const Attrs& a) {
  PoolGeom g{x[0] * x[1], x[2], x[3], a.i[0], a.i[1], a.i[2], a.i[3], a.i[4], a.i[5], 0, 0};
  g.Ho = window_out(g.H, g.ph, g.kh, g.sh);
  g.Wo = window_out(g.W, g.pw, g.kw, g.sw);
  return g;
}

/// The 2x2 stride-2 unpadded window the fast pool kernels (and uint8 window offsets) take.
inline bool is_2x2_window(const PoolGeom& G) {
  return G.kh == 2 && G.kw == 2 && G.sh == 2 && G.sw == 2 && G.ph == 0 && G.pw == 0;
}

/// The pool attrs (i0..i5) of a fused conv + pool op, which carries them in i7..i12 after the
/// conv's own.
inline Attrs fused_pool_attrs(const Attrs& a) {
  Attrs p;
  for (int j = 0; j < 6; ++j) p.i[j] = a.i[7 + j];
  return p;
}

/// PyTorch's adaptive pooling window along one dim: [floor(i*in/out), ceil((i+1)*in/out)).
inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; }

namespace conv_cpu {
/// AVX-512F with FMA: what the hand-written conv and pool kernels are built for (checked once).
inline bool have_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return ok;
}
/// Position in an [H, W] plane (row-major, W wide) of uint8 window offset k (row k / 2, column
/// k % 2) of the 2x2 stride-2 window at pooled (oh, ow).
inline int64_t window_position(int64_t oh, int64_t ow, int k, int64_t W) {
  return (2 * oh + (k >> 1)) * W + 2 * ow + (k & 1);
}
void conv2d(const Tensor* in, int n, Tensor* out, const Attrs& a);
void conv2d_input_grad(const Tensor* in, int n, Tensor* out, const Attrs& a);
void conv2d_weight_grad(const Tensor* in, int n, Tensor* out, const Attrs& a);
void conv2d_weight_bias_grad(const Tensor* in, int n, Tensor* out, const Attrs& a);
void max_pool2d(const Tensor* in, int n, Tensor* out, const Attrs& a);
void relu_max_pool2d(const Tensor* in, int n, Tensor* out, const Attrs& a);
void max_pool2d_grad(const Tensor* in, int n, Tensor* out, const Attrs& a);
/// Graph-only fusion of conv2d -> relu_max_pool2d (graph/passes/fuse_conv_pool.cpp): attrs i0..i6
/// as conv2d, i7..i12 as the pool's i0..i5; outputs as relu_max_pool2d's (values, indices).
void conv2d_relu_max_pool2d(const Tensor* in, int n, Tensor* out, const Attrs& a);
/// Graph-only fusion of max_pool2d_grad -> conv2d_weight_bias_grad (fuse_conv_pool.cpp): inputs
/// (x, g, indices[, y]); attrs i0..i6 and shape as conv2d_weight_grad, i7..i12 the pool's i0..i5;
/// outputs (weight grad, bias grad). The pool's input gradient is made per image, never whole.
void pool_grad_conv2d_weight_bias_grad(const Tensor* in, int n, Tensor* out, const Attrs& a);
/// Graph-only fusion of max_pool2d_grad -> conv2d_input_grad + conv2d_weight_bias_grad
/// (fuse_conv_pool.cpp; kernel: pool_conv_backward_cpu.cpp): inputs (x, w, g, indices[, y]);
/// attrs i0..i6 as conv2d, i7..i12 the pool's i0..i5; outputs (input grad, weight grad, bias
/// grad). Visits only the pool's winners (the pool's input gradient is zero elsewhere).
void pool_grad_conv2d_backward(const Tensor* in, int n, Tensor* out, const Attrs& a);
/// Whether it takes its sparse kernels (else it runs the unfused kernels): float32, AVX-512,
/// stride 1, dilation 1, one group, <= 64 input channels, <= 25 taps, a 2x2 stride-2 pool over the
/// whole conv output.
bool pool_grad_conv2d_backward_applies(const ConvGeom& G, const PoolGeom& P, DType dtype);
/// Scratch bytes of one call on the calling thread (the pass plans them into the arena).
int64_t pool_grad_conv2d_backward_workspace(const ConvGeom& G);
/// max_pool2d_grad of one plane for a 2x2 stride-2 unpadded window (contiguous [Ho, Wo] g,
/// indices and optional y; gx [H, W] written whole): the unfused kernel's code for one plane.
/// offsets (optional): uint8 window offsets (0..3) instead of indices.
void max_pool_2x2_grad_plane(const float* g, const int64_t* indices, const float* y, const PoolGeom& G,
                             float* gx, const uint8_t* offsets = nullptr);
/// relu(max_pool2d) of one contiguous float [H, W] plane with a 2x2 stride-2 unpadded window into
/// contiguous [Ho, Wo] values and indices: relu_max_pool2d's arithmetic for one plane.
/// offsets (optional): write uint8 window offsets k (row k / 2, column k % 2 of the window) instead.
void relu_max_pool_2x2_plane(const float* plane, const PoolGeom& G, float* values, int64_t* indices,
                             uint8_t* offsets = nullptr);
void avg_pool2d(const Tensor* in, int n, Tensor* out, const Attrs& a);
void avg_pool2d_grad(const Tensor* in, int n, Tensor* out, const Attrs& a);
void adaptive_avg_pool2d(const Tensor* in, int n, Tensor* out, const Attrs& a);
void adaptive_avg_pool2d_grad(const Tensor* in, int n, Tensor* out, const Attrs& a);

// Direct stride-1 float32 kernels (direct_cpu.cpp), used by the three conv kernels above when
// direct_conv_applies; x may have any strides, gy and w must be contiguous.
enum class ConvPass { kForward, kInputGrad, kWeightGrad };
/// Whether the direct kernels take this pass of this call (stride 1, float32, AVX-512, buffers
/// of bounded size; the input grad also needs padding <= dilation * (kernel - 1)).
bool direct_conv_applies(const ConvGeom& G, DType dtype, ConvPass pass);
void direct_conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out,
                   const ConvGeom& G);
/// The forward conv one image at a time (groups == 1): sink(n, out) gets image n's contiguous
/// [Co, Ho, Wo] result in a per-thread buffer, valid until sink returns (called from the threads
/// of a parallel loop over images). For fusing what follows the conv while the image is in cache.
using ImageSink = std::function<void(int64_t, const float*)>;
void direct_conv2d_each_image(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvGeom& G,
                              const ImageSink& sink);
void direct_conv2d_input_grad(const Tensor& gy, const Tensor& w, const Tensor& gx, const ConvGeom& G);
/// gb: also the bias grad (sum of gy over images and positions, [Co] contiguous), or null.
void direct_conv2d_weight_grad(const Tensor& gy, const Tensor& x, const Tensor& gw, const ConvGeom& G,
                               float* gb = nullptr);
/// Tests: false routes every call through im2col + GEMM (the reference path).
void set_direct_conv_enabled(bool on);
bool direct_conv_enabled();

// Weight grad with few taps per channel (wgrad_small_cpu.cpp): positions along the lanes, gy read
// in place. gy contiguous, x any strides, any stride/padding/dilation/groups.
/// Whether it takes this call (float32, AVX-512, Cg * kh * kw <= 16, at least 16 positions).
bool small_wgrad_applies(const ConvGeom& G, DType dtype);
void small_conv2d_weight_grad(const Tensor& gy, const Tensor& x, const Tensor& gw, const ConvGeom& G,
                              float* gb = nullptr);
/// The same with gy supplied per image: gy_rows(n, c0, c1, buf) returns image n's output gradient
/// for (absolute) channels [c0, c1) as c1 - c0 contiguous Ho x Wo planes, either in place or
/// written into buf (room for them); called by each thread for the channels its tiles cover.
using GyRows = std::function<const float*(int64_t, int64_t, int64_t, float*)>;
void small_conv2d_weight_grad_rows(const GyRows& gy_rows, const Tensor& x, const Tensor& gw,
                                   const ConvGeom& G, float* gb = nullptr);
}  // namespace conv_cpu

}  // namespace nabla::ops
