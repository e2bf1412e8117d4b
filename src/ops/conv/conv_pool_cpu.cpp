// Conv + pool fusions: made by graph/passes/fuse_conv_pool.cpp and, in eager mode, by nn::Sequential
// (conv2d_relu_max_pool2d and, through its VJP, the backward kernels).
//
// conv2d_relu_max_pool2d (conv2d -> relu_max_pool2d):
// Why: in a small CNN the conv's output is the largest activation (the seed CNN's first layer:
// 64 x 32 x 28 x 28 floats, 6.4 MB at batch 64, three times an L2 cache) and the pool is its only
// reader: the backward pass needs the pooled values and indices, not the conv output. Pooling each
// image's conv result while it is still in the thread's cache means the full conv output is never
// written to memory and read back, and the compiled graph's arena does not hold it.
// Per image the arithmetic is exactly the unfused kernels' (the direct conv's fwd_image, then the
// 2x2 pool of relu_max_pool2d), so results are bit-identical to the unfused graph. Cases the
// direct kernel or the 2x2 pool do not take (other windows, strides, dtypes, groups, 1x1 convs)
// run the two kernels one after the other.
//
// pool_grad_conv2d_weight_bias_grad (max_pool2d_grad -> conv2d_weight_bias_grad, the first conv
// layer's backward, whose input needs no gradient): the pool's input gradient (as large as the conv
// output) is scattered per image into the weight-grad kernel's per-thread rows buffer, right before
// the kernel reads them, instead of being written whole; the same plane and tile code as unfused.
#include "nabla/creation.h"
#include "ops/conv/conv.h"

namespace nabla::ops::conv_cpu {
namespace {

// The conditions under which the unfused conv2d runs the direct kernel on contiguous weights and
// relu_max_pool2d runs the 2x2 window: only then is per-image fusion bit-identical.
bool fusable(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvGeom& G, const PoolGeom& P) {
  return x.dtype() == kFloat32 && w.is_contiguous() && (!bias || bias->dtype() == kFloat32) &&
         G.groups == 1 && !is_pointwise(G) && direct_conv_applies(G, kFloat32, ConvPass::kForward) &&
         is_2x2_window(P);
}

}  // namespace

void conv2d_relu_max_pool2d(const Tensor* in, int n, Tensor* out, const Attrs& a) {
  const Tensor &x = in[0], &w = in[1];
  const Tensor* bias = n == 3 ? &in[2] : nullptr;
  const ConvGeom G = conv_geom(x.shape(), w.shape(), a);
  const Attrs pa = fused_pool_attrs(a);
  const PoolGeom P = pool_geom(Shape{G.N, G.Co, G.Ho, G.Wo}, pa);
  if (out[0].numel() == 0) return;
  // i13 = 1: the indices are uint8 window offsets (fuse_conv_pool's compact indices), 8x smaller.
  const bool offsets = a.i[13] != 0;
  if (!fusable(x, w, bias, G, P)) {
    Tensor conv_out = empty(Shape{G.N, G.Co, G.Ho, G.Wo}, x.dtype());
    conv2d(in, n, &conv_out, a);
    if (!offsets) return relu_max_pool2d(&conv_out, 1, out, pa);
    Tensor pooled[2] = {out[0], empty(out[1].shape(), kInt64)};
    relu_max_pool2d(&conv_out, 1, pooled, pa);
    // index (2 oh + dh) * W + 2 ow + dw -> offset 2 dh + dw
    const int64_t* idx = static_cast<const int64_t*>(pooled[1].raw_data());
    uint8_t* k = static_cast<uint8_t*>(out[1].raw_data());
    for (int64_t q = 0, e = out[1].numel(); q < e; ++q) {
      const int64_t oh = q / P.Wo % P.Ho, ow = q % P.Wo;
      const int64_t dh = idx[q] / P.W - 2 * oh, dw = idx[q] % P.W - 2 * ow;
      k[q] = static_cast<uint8_t>(2 * dh + dw);
    }
    return;
  }
  float* values = static_cast<float*>(out[0].raw_data());
  int64_t* indices = offsets ? nullptr : static_cast<int64_t*>(out[1].raw_data());
  uint8_t* window = offsets ? static_cast<uint8_t*>(out[1].raw_data()) : nullptr;
  const int64_t plane_in = G.Ho * G.Wo, plane_out = P.Ho * P.Wo;
  direct_conv2d_each_image(x, w, bias, G, [&](int64_t image, const float* conv) {
    for (int64_t c = 0; c < G.Co; ++c) {
      const int64_t o = (image * G.Co + c) * plane_out;
      relu_max_pool_2x2_plane(conv + c * plane_in, P, values + o, indices ? indices + o : nullptr,
                              window ? window + o : nullptr);
    }
  });
}

void pool_grad_conv2d_weight_bias_grad(const Tensor* in, int n, Tensor* out, const Attrs& a) {
  const Tensor &x = in[0], &g = in[1], &idx = in[2];
  const Tensor* y = n == 4 ? &in[3] : nullptr;
  const ConvGeom G = conv_geom(x.shape(), out[0].shape(), a);
  Attrs pa = fused_pool_attrs(a);
  pa.shape = Shape{G.N, G.Co, G.Ho, G.Wo};  // the pool's input: the conv's output
  const PoolGeom P = pool_geom(pa.shape, pa);
  // The unfused kernels' fast paths: max_pool2d_grad's 2x2 plane kernel on contiguous planes, then
  // conv2d_weight_bias_grad's small-taps kernel (float32).
  const bool fast = out[0].dtype() == kFloat32 && out[0].numel() > 0 && G.N > 0 && !is_pointwise(G) &&
                    small_wgrad_applies(G, kFloat32) && is_2x2_window(P) && g.is_contiguous() &&
                    idx.is_contiguous() && (!y || y->is_contiguous()) && P.H * P.W < (int64_t{1} << 30);
  if (!fast) {
    Tensor gx = empty(pa.shape, g.dtype());
    Tensor pool_in[3] = {g, idx, y ? *y : Tensor()};
    max_pool2d_grad(pool_in, y ? 3 : 2, &gx, pa);
    Tensor wgrad_in[2] = {gx, x};
    conv2d_weight_bias_grad(wgrad_in, 2, out, a);
    return;
  }
  const float* pg = static_cast<const float*>(g.raw_data());
  const bool offsets = idx.dtype() == kUInt8;  // compact indices (uint8 window offsets)
  const int64_t* pi = offsets ? nullptr : static_cast<const int64_t*>(idx.raw_data());
  const uint8_t* pk = offsets ? static_cast<const uint8_t*>(idx.raw_data()) : nullptr;
  const float* py = y ? static_cast<const float*>(y->raw_data()) : nullptr;
  const int64_t plane_out = P.Ho * P.Wo, plane_in = P.H * P.W;
  small_conv2d_weight_grad_rows(
      [&](int64_t image, int64_t c0, int64_t c1, float* rows) -> const float* {
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t o = (image * G.Co + c) * plane_out;
          max_pool_2x2_grad_plane(pg + o, pi ? pi + o : nullptr, py ? py + o : nullptr, P,
                                  rows + (c - c0) * plane_in, pk ? pk + o : nullptr);
        }
        return rows;
      },
      x, out[0], G, static_cast<float*>(out[1].raw_data()));
}

}  // namespace nabla::ops::conv_cpu
