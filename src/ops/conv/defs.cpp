// Convolution and pooling ops (NCHW). Each forward op has a *_grad primitive for its VJP; the
// grad ops are linear in their gradient input, so their own VJPs are the forward ops again and
// everything is twice differentiable. Kernels in conv_cpu.cpp and pool_cpu.cpp.
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"
#include "ops/conv/conv.h"

namespace nabla::ops {
namespace {

struct Pair {
  const int64_t* v;
};
std::ostream& operator<<(std::ostream& os, Pair p) { return os << "[" << p.v[0] << ", " << p.v[1] << "]"; }

void check_4d(const char* op, const Tensor& x) {
  NABLA_CHECK(x.dim() == 4, op, ": expected a 4-d input [N, C, H, W] (or 3-d [C, H, W]), got shape ",
              x.shape());
  NABLA_CHECK(is_floating(x.dtype()), op, ": expected a floating-point input, got ", x.dtype());
}

// ---- conv2d: x [N, C, H, W] * w [Co, C/groups, kh, kw] (+ b [Co]) -> [N, Co, Ho, Wo] ----
void conv2d_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  const Shape &x = in[0].shape(), &w = in[1].shape();
  check_4d("conv2d", in[0]);
  NABLA_CHECK(w.size() == 4, "conv2d: expected a 4-d weight [C_out, C_in/groups, kH, kW], got shape ", w);
  NABLA_CHECK(in[1].dtype() == in[0].dtype(), "conv2d: input has dtype ", in[0].dtype(), " but weight has ",
              in[1].dtype());
  NABLA_CHECK(a.i[0] > 0 && a.i[1] > 0, "conv2d: stride must be positive, got ", Pair{a.i});
  NABLA_CHECK(a.i[2] >= 0 && a.i[3] >= 0, "conv2d: padding must be non-negative, got ", Pair{a.i + 2});
  NABLA_CHECK(a.i[4] > 0 && a.i[5] > 0, "conv2d: dilation must be positive, got ", Pair{a.i + 4});
  int64_t g = a.i[6];
  NABLA_CHECK(g > 0, "conv2d: groups must be positive, got ", g);
  NABLA_CHECK(w[0] % g == 0, "conv2d: weight ", w, " has ", w[0],
              " output channels, not divisible by groups=", g);
  NABLA_CHECK(x[1] == w[1] * g, "conv2d: input has ", x[1], " channels but weight ", w, " expects ", w[1] * g,
              " (groups=", g, ")");
  NABLA_CHECK(w[2] > 0 && w[3] > 0, "conv2d: weight ", w, " has an empty kernel");
  ConvGeom G = conv_geom(x, w, a);
  NABLA_CHECK(G.Ho > 0 && G.Wo > 0, "conv2d: input ", x, " is too small for weight ", w, " with stride ",
              Pair{a.i}, ", padding ", Pair{a.i + 2}, ", dilation ", Pair{a.i + 4}, " (output size ", G.Ho,
              "x", G.Wo, ")");
  if (n == 3) {
    const Shape& b = in[2].shape();
    NABLA_CHECK(b.size() == 1 && b[0] == w[0], "conv2d: bias of shape ", b, " does not match weight ", w,
                " (expected [", w[0], "])");
    NABLA_CHECK(in[2].dtype() == in[0].dtype(), "conv2d: bias has dtype ", in[2].dtype(), " but input has ",
                in[0].dtype());
  }
  out[0] = {Shape{x[0], w[0], G.Ho, G.Wo}, in[0].dtype()};
}
Attrs with_shape(const Attrs& a, const Shape& s) {
  Attrs b = a;
  b.shape = s;
  return b;
}
void conv2d_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& go = a.grad_outputs[0];
  if (a.needs_grad[0])
    g[0] = dispatch1(OpId::conv2d_input_grad, {go, a.inputs[1]}, with_shape(a.attrs, a.input_meta[0].shape));
  bool bias = a.num_inputs == 3 && a.needs_grad[2];
  if (a.needs_grad[1] && bias) {  // both from one pass over the output gradient
    Tensor out[2];
    Tensor in[2] = {go, a.inputs[0]};
    dispatch(OpId::conv2d_weight_bias_grad, in, 2, with_shape(a.attrs, a.input_meta[1].shape), out);
    g[1] = out[0];
    g[2] = out[1];
    return;
  }
  if (a.needs_grad[1])
    g[1] = dispatch1(OpId::conv2d_weight_grad, {go, a.inputs[0]}, with_shape(a.attrs, a.input_meta[1].shape));
  if (bias) g[2] = go.sum({0, 2, 3});
}

// ---- conv2d_input_grad(g, w) -> dL/dx of shape attrs.shape (the transposed convolution) ----
void shape_attr_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  out[0] = {a.shape, in[0].dtype()};
}
// Linear in (g, w): <input_grad(g, w), h> = <g, conv2d(h, w)>.
void conv2d_input_grad_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& h = a.grad_outputs[0];
  if (a.needs_grad[0]) g[0] = dispatch1(OpId::conv2d, {h, a.inputs[1]}, with_shape(a.attrs, {}));
  if (a.needs_grad[1])
    g[1] = dispatch1(OpId::conv2d_weight_grad, {a.inputs[0], h}, with_shape(a.attrs, a.input_meta[1].shape));
}

// ---- conv2d_weight_grad(g, x) -> dL/dw of shape attrs.shape ----
// <weight_grad(g, x), k> = <g, conv2d(x, k)>.
void conv2d_weight_grad_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& k = a.grad_outputs[0];
  if (a.needs_grad[0]) g[0] = dispatch1(OpId::conv2d, {a.inputs[1], k}, with_shape(a.attrs, {}));
  if (a.needs_grad[1])
    g[1] = dispatch1(OpId::conv2d_input_grad, {a.inputs[0], k}, with_shape(a.attrs, a.input_meta[1].shape));
}

// ---- conv2d_weight_bias_grad(g, x) -> (conv2d_weight_grad(g, x), g.sum({0, 2, 3})) ----
void weight_bias_grad_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  out[0] = {a.shape, in[0].dtype()};
  out[1] = {Shape{in[0].size(1)}, in[0].dtype()};
}
// <(wg, bg), (k, hb)> = <g, conv2d(x, k) + hb> = <g, conv2d(x, k, hb)>.
void conv2d_weight_bias_grad_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor &k = a.grad_outputs[0], &hb = a.grad_outputs[1];
  if (a.needs_grad[0]) g[0] = dispatch1(OpId::conv2d, {a.inputs[1], k, hb}, with_shape(a.attrs, {}));
  if (a.needs_grad[1])
    g[1] = dispatch1(OpId::conv2d_input_grad, {a.inputs[0], k}, with_shape(a.attrs, a.input_meta[1].shape));
}

// ---- pooling windows: i0/i1 kernel, i2/i3 stride (resolved), i4/i5 padding ----
void check_pool(const char* op, const Tensor& x, const Attrs& a, TensorMeta* out) {
  check_4d(op, x);
  NABLA_CHECK(a.i[0] > 0 && a.i[1] > 0, op, ": kernel size must be positive, got ", Pair{a.i});
  NABLA_CHECK(a.i[2] > 0 && a.i[3] > 0, op, ": stride must be positive, got ", Pair{a.i + 2});
  NABLA_CHECK(a.i[4] >= 0 && a.i[5] >= 0 && 2 * a.i[4] <= a.i[0] && 2 * a.i[5] <= a.i[1], op, ": padding ",
              Pair{a.i + 4}, " must be non-negative and at most half of the kernel size ", Pair{a.i});
  PoolGeom G = pool_geom(x.shape(), a);
  NABLA_CHECK(G.Ho > 0 && G.Wo > 0, op, ": input ", x.shape(), " is too small for kernel ", Pair{a.i},
              " with stride ", Pair{a.i + 2}, " and padding ", Pair{a.i + 4}, " (output size ", G.Ho, "x",
              G.Wo, ")");
  out[0] = {Shape{x.size(0), x.size(1), G.Ho, G.Wo}, x.dtype()};
}

// ---- max_pool2d: values + int64 index (h * W + w) of each window's max in its plane ----
void max_pool2d_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_pool("max_pool2d", in[0], a, out);
  out[1] = {out[0].shape, kInt64};
}
void max_pool2d_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = dispatch1(OpId::max_pool2d_grad, {a.grad_outputs[0], a.outputs[1]},
                   with_shape(a.attrs, a.input_meta[0].shape));
}
// relu_max_pool2d = relu(max_pool2d(x)): the pool's gradient restricted to windows with y > 0.
void relu_max_pool2d_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = dispatch1(OpId::max_pool2d_grad, {a.grad_outputs[0], a.outputs[1], a.outputs[0]},
                   with_shape(a.attrs, a.input_meta[0].shape));
}
// max_pool2d_grad(g, indices[, y]): scatters g (where y > 0) into the argmax positions; its
// adjoint gathers them (and applies the same mask). y, a mask, gets no gradient (as in ReLU's).
void max_pool2d_grad_vjp(const VjpArgs& a, Tensor* g) {
  if (!a.needs_grad[0]) return;
  const Tensor& idx = a.inputs[1];
  g[0] = gather(a.grad_outputs[0].flatten(2), 2, idx.flatten(2)).view(a.input_meta[0].shape);
  if (a.num_inputs == 3) g[0] = where(a.inputs[2] > 0, g[0], zeros({}, g[0].dtype()));
}
void max_pool2d_grad_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(n == 2 || n == 3, "max_pool2d_grad: expected (grad, indices[, output]), got ", n, " inputs");
  if (n == 3)
    NABLA_CHECK(in[2].shape() == in[0].shape() && in[2].dtype() == in[0].dtype(), "max_pool2d_grad: output ",
                in[2].shape(), " (", in[2].dtype(), ") does not match grad ", in[0].shape(), " (",
                in[0].dtype(), ")");
  out[0] = {a.shape, in[0].dtype()};
}

// ---- avg_pool2d (count_include_pad) and its grad: linear maps, adjoint of each other ----
void avg_pool2d_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_pool("avg_pool2d", in[0], a, out);
}
void avg_pool2d_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = dispatch1(OpId::avg_pool2d_grad, {a.grad_outputs[0]}, with_shape(a.attrs, a.input_meta[0].shape));
}
void avg_pool2d_grad_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = dispatch1(OpId::avg_pool2d, {a.grad_outputs[0]}, with_shape(a.attrs, {}));
}

// ---- adaptive_avg_pool2d (i0/i1 = output size) and its grad ----
void adaptive_avg_pool2d_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_4d("adaptive_avg_pool2d", in[0]);
  NABLA_CHECK(a.i[0] > 0 && a.i[1] > 0, "adaptive_avg_pool2d: output size must be positive, got ", Pair{a.i},
              " for input ", in[0].shape());
  NABLA_CHECK(in[0].size(2) > 0 && in[0].size(3) > 0, "adaptive_avg_pool2d: input ", in[0].shape(),
              " has an empty spatial dim");
  out[0] = {Shape{in[0].size(0), in[0].size(1), a.i[0], a.i[1]}, in[0].dtype()};
}
void adaptive_avg_pool2d_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = dispatch1(OpId::adaptive_avg_pool2d_grad, {a.grad_outputs[0]},
                   with_shape(a.attrs, a.input_meta[0].shape));
}
void adaptive_avg_pool2d_grad_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = dispatch1(OpId::adaptive_avg_pool2d, {a.grad_outputs[0]}, with_shape(a.attrs, {}));
}

// ---- conv2d_relu_max_pool2d: conv2d's i0..i6, then the pool's i0..i5 in i7..i12 ----
// Made by the graph pass (fuse_conv_pool.cpp) and, eagerly, by nn::Sequential for Conv2d -> ReLU ->
// MaxPool2d (nabla::conv2d_relu_max_pool2d). Its VJP visits only the pool's winners: the conv's
// output gradient is zero everywhere else (pool_grad_conv2d_backward; without an input gradient,
// pool_grad_conv2d_weight_bias_grad), about a quarter of the work of the conv's own backward for
// a 2x2 pool. Those kernels have no VJPs: with create_graph (grad mode on during backward) the
// gradient is made of the unfused ops instead, which do.
void conv2d_relu_max_pool2d_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  TensorMeta conv;
  conv2d_infer(in, n, a, &conv);
  const Attrs pa = fused_pool_attrs(a);
  NABLA_CHECK(pa.i[0] > 0 && pa.i[1] > 0 && pa.i[2] > 0 && pa.i[3] > 0 && pa.i[4] >= 0 && pa.i[5] >= 0,
              "conv2d_relu_max_pool2d: invalid pool window: kernel ", Pair{pa.i}, ", stride ", Pair{pa.i + 2},
              ", padding ", Pair{pa.i + 4});
  PoolGeom G = pool_geom(conv.shape, pa);
  NABLA_CHECK(G.Ho > 0 && G.Wo > 0, "conv2d_relu_max_pool2d: the conv's output ", conv.shape,
              " is too small for pool kernel ", Pair{pa.i});
  out[0] = {Shape{conv.shape[0], conv.shape[1], G.Ho, G.Wo}, conv.dtype};
  // i13 = 1: uint8 window offsets instead of int64 indices (2x2 stride-2 unpadded windows only).
  NABLA_CHECK(a.i[13] == 0 || (pa.i[0] == 2 && pa.i[1] == 2 && pa.i[2] == 2 && pa.i[3] == 2 && pa.i[4] == 0 &&
                               pa.i[5] == 0),
              "conv2d_relu_max_pool2d: uint8 window offsets need a 2x2 stride-2 unpadded pool");
  out[1] = {out[0].shape, a.i[13] ? kUInt8 : kInt64};
}

void conv2d_relu_max_pool2d_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor &x = a.inputs[0], &w = a.inputs[1];
  const Tensor &gout = a.grad_outputs[0], &y = a.outputs[0], &idx = a.outputs[1];
  const bool has_bias = a.num_inputs == 3;
  if (GradMode::is_enabled()) {
    Attrs conv = a.attrs;  // the conv's attrs alone, for the unfused ops
    for (int j = 7; j < 14; ++j) conv.i[j] = 0;
    Attrs pa = fused_pool_attrs(a.attrs);
    const ConvGeom G = conv_geom(x.shape(), w.shape(), a.attrs);
    pa.shape = Shape{G.N, G.Co, G.Ho, G.Wo};
    const Tensor gy = dispatch1(OpId::max_pool2d_grad, {gout, idx, y}, pa);
    const VjpArgs c{a.inputs, a.input_meta, a.num_inputs, nullptr, &gy, 1, conv, a.needs_grad};
    conv2d_vjp(c, g);
    return;
  }
  if (a.needs_grad[0]) {
    Tensor in[5] = {x, w, gout, idx, y}, out[3];
    dispatch(OpId::pool_grad_conv2d_backward, in, 5, with_shape(a.attrs, {}), out);
    for (int j = 0; j < 3; ++j)
      if (j < a.num_inputs && a.needs_grad[j]) g[j] = out[j];
  } else if (a.needs_grad[1] || (has_bias && a.needs_grad[2])) {
    Tensor in[4] = {x, gout, idx, y}, out[2];
    dispatch(OpId::pool_grad_conv2d_weight_bias_grad, in, 4, with_shape(a.attrs, w.shape()), out);
    for (int j = 1; j < 3; ++j)
      if (j < a.num_inputs && a.needs_grad[j]) g[j] = out[j - 1];
  }
}

// ---- pool_grad_conv2d_weight_bias_grad (fused, no VJP): (x, g, indices[, y]) ----
void pool_grad_conv2d_weight_bias_grad_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(n == 3 || n == 4, "pool_grad_conv2d_weight_bias_grad: expected (x, grad, indices[, output]), got ",
              n, " inputs");
  check_4d("pool_grad_conv2d_weight_bias_grad", in[0]);
  NABLA_CHECK(a.shape.size() == 4, "pool_grad_conv2d_weight_bias_grad: expected a 4-d weight shape, got ", a.shape);
  NABLA_CHECK(in[2].dtype() == kInt64 || in[2].dtype() == kUInt8,
              "pool_grad_conv2d_weight_bias_grad: indices must be int64 (or uint8 window offsets), got ",
              in[2].dtype());
  out[0] = {a.shape, in[0].dtype()};
  out[1] = {Shape{a.shape[0]}, in[0].dtype()};
}

// ---- pool_grad_conv2d_backward (fused, no VJP): (x, w, g, indices[, y]) -> (gx, gw, gb) ----
void pool_grad_conv2d_backward_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(n == 4 || n == 5, "pool_grad_conv2d_backward: expected (x, weight, grad, indices[, output]), got ", n,
              " inputs");
  TensorMeta conv;
  conv2d_infer(in, 2, a, &conv);
  NABLA_CHECK(in[3].dtype() == kInt64 || in[3].dtype() == kUInt8,
              "pool_grad_conv2d_backward: indices must be int64 (or uint8 window offsets), got ", in[3].dtype());
  out[0] = {in[0].shape(), in[0].dtype()};
  out[1] = {in[1].shape(), in[1].dtype()};
  out[2] = {Shape{in[1].size(0)}, in[0].dtype()};
}

void def(OpId id, InferFn infer, VjpFn vjp, KernelFn cpu, uint32_t save_inputs = 0) {
  OpDef& d = define_op(id);
  d.infer = infer;
  d.vjp = vjp;
  d.kernels[kCpu] = cpu;
  d.save_inputs = save_inputs;
}

}  // namespace

void register_conv_ops() {
  def(OpId::conv2d, conv2d_infer, conv2d_vjp, conv_cpu::conv2d, 0b011);
  def(OpId::conv2d_input_grad, shape_attr_infer, conv2d_input_grad_vjp, conv_cpu::conv2d_input_grad, 0b11);
  def(OpId::conv2d_weight_grad, shape_attr_infer, conv2d_weight_grad_vjp, conv_cpu::conv2d_weight_grad, 0b11);
  def(OpId::conv2d_weight_bias_grad, weight_bias_grad_infer, conv2d_weight_bias_grad_vjp,
      conv_cpu::conv2d_weight_bias_grad, 0b11);
  define_op(OpId::conv2d_weight_bias_grad).num_outputs = 2;
  def(OpId::max_pool2d, max_pool2d_infer, max_pool2d_vjp, conv_cpu::max_pool2d);
  define_op(OpId::max_pool2d).num_outputs = 2;
  define_op(OpId::max_pool2d).save_outputs = 0b10;
  def(OpId::relu_max_pool2d, max_pool2d_infer, relu_max_pool2d_vjp, conv_cpu::relu_max_pool2d);
  define_op(OpId::relu_max_pool2d).num_outputs = 2;
  define_op(OpId::relu_max_pool2d).save_outputs = 0b11;
  def(OpId::conv2d_relu_max_pool2d, conv2d_relu_max_pool2d_infer, conv2d_relu_max_pool2d_vjp,
      conv_cpu::conv2d_relu_max_pool2d, 0b011);
  define_op(OpId::conv2d_relu_max_pool2d).num_outputs = 2;
  define_op(OpId::conv2d_relu_max_pool2d).save_outputs = 0b11;
  // The fused backward kernels, made by the pass after autodiff or by the VJP above: no VJPs.
  def(OpId::pool_grad_conv2d_weight_bias_grad, pool_grad_conv2d_weight_bias_grad_infer, nullptr,
      conv_cpu::pool_grad_conv2d_weight_bias_grad);
  define_op(OpId::pool_grad_conv2d_weight_bias_grad).num_outputs = 2;
  def(OpId::pool_grad_conv2d_backward, pool_grad_conv2d_backward_infer, nullptr, conv_cpu::pool_grad_conv2d_backward);
  define_op(OpId::pool_grad_conv2d_backward).num_outputs = 3;
  def(OpId::max_pool2d_grad, max_pool2d_grad_infer, max_pool2d_grad_vjp, conv_cpu::max_pool2d_grad, 0b110);
  def(OpId::avg_pool2d, avg_pool2d_infer, avg_pool2d_vjp, conv_cpu::avg_pool2d);
  def(OpId::avg_pool2d_grad, shape_attr_infer, avg_pool2d_grad_vjp, conv_cpu::avg_pool2d_grad);
  def(OpId::adaptive_avg_pool2d, adaptive_avg_pool2d_infer, adaptive_avg_pool2d_vjp,
      conv_cpu::adaptive_avg_pool2d);
  def(OpId::adaptive_avg_pool2d_grad, shape_attr_infer, adaptive_avg_pool2d_grad_vjp,
      conv_cpu::adaptive_avg_pool2d_grad);
}

}  // namespace nabla::ops
