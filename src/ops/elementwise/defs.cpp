// Elementwise ops: shape/dtype rules and VJPs. Kernels live in cpu.cpp / cpu_unary.cpp.
//
// Inputs reach these ops with one common dtype (the public functions in api.cpp compute
// result_type and cast), so infer only checks it. Attribute use:
//   add, sub     i0 = 1 when alpha != 1: f0 = alpha, i1 = alpha as an integer (integral dtypes)
//   pow_scalar   f0 = exponent
//   clamp        i0/i1 = has min/max, f0/f1 = min/max, i2/i3 = min/max as integers
//   leaky_relu   f0 = negative_slope;  elu f0 = alpha;  gelu i0 = 1 for the tanh form
//   softplus     f0 = beta, f1 = threshold
//   fill         f0 = value; i0 = 1 when the value is an integer, held exactly in i1
// VJPs use public ops only (so they differentiate again); the autograd engine sums gradients of
// broadcast inputs back to their shapes and casts them to their dtypes.
#include <cmath>

#include "nabla/creation.h"
#include "nabla/ops.h"
#include "ops/elementwise/elementwise.h"

namespace nabla::ops {
namespace {

constexpr uint32_t kIn0 = 1, kIn1 = 2, kBothIn = 3, kOut0 = 1;

void check_same_dtype(OpId id, const Tensor* in, int n, int first) {
  for (int k = first + 1; k < n; ++k)
    NABLA_CHECK(in[k].dtype() == in[first].dtype(), op_name(id), ": expected inputs of one dtype, but got ",
                in[first].dtype(), " and ", in[k].dtype(), " (the public function casts them)");
}

// ---- shape/dtype rules ----
template <OpId Id, bool BoolOut = false>
void binary_infer(const Tensor* in, int n, const Attrs&, TensorMeta* out) {
  NABLA_CHECK(n == 2, op_name(Id), ": expected 2 inputs, got ", n);
  check_same_dtype(Id, in, n, 0);
  const Shape& a = in[0].shape();
  const Shape& b = in[1].shape();
  out[0].shape = a == b ? a : broadcast_shapes(a, b, op_name(Id));
  out[0].dtype = BoolOut ? kBool : in[0].dtype();
}
template <OpId Id>
void float_binary_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  binary_infer<Id>(in, n, a, out);
  NABLA_CHECK(is_floating(out[0].dtype), op_name(Id), ": expected floating-point inputs, but got ",
              out[0].dtype);
}
void where_infer(const Tensor* in, int n, const Attrs&, TensorMeta* out) {
  NABLA_CHECK(n == 3, "where: expected 3 inputs (condition, a, b), got ", n);
  NABLA_CHECK(in[0].dtype() == kBool, "where: expected a bool condition, but got ", in[0].dtype());
  check_same_dtype(OpId::where, in, n, 1);
  Shape s = broadcast_shapes(in[0].shape(), in[1].shape(), "where");
  out[0] = {broadcast_shapes(s, in[2].shape(), "where"), in[1].dtype()};
}
void unary_infer(const Tensor* in, int, const Attrs&, TensorMeta* out) {
  out[0] = {in[0].shape(), in[0].dtype()};
}
template <OpId Id>
void float_unary_infer(const Tensor* in, int, const Attrs&, TensorMeta* out) {
  NABLA_CHECK(is_floating(in[0].dtype()), op_name(Id), ": expected a floating-point tensor, but got ",
              in[0].dtype());
  out[0] = {in[0].shape(), in[0].dtype()};
}
void bool_unary_infer(const Tensor* in, int, const Attrs&, TensorMeta* out) {
  out[0] = {in[0].shape(), kBool};
}

// ---- VJP helpers ----
const Tensor& grad(const VjpArgs& a) { return a.grad_outputs[0]; }
const Tensor& x0(const VjpArgs& a) { return a.inputs[0]; }
const Tensor& x1(const VjpArgs& a) { return a.inputs[1]; }
const Tensor& y0(const VjpArgs& a) { return a.outputs[0]; }
Tensor zero() { return scalar_tensor(0); }  // wrapped: takes the other operand's dtype
Scalar alpha(const Attrs& at) { return at.i[0] ? Scalar(at.f[0]) : Scalar(1); }

// ---- binary VJPs ----
void add_vjp(const VjpArgs& a, Tensor* g) {
  if (a.needs_grad[0]) g[0] = grad(a);
  if (a.needs_grad[1]) g[1] = a.attrs.i[0] ? grad(a) * alpha(a.attrs) : grad(a);
}
void sub_vjp(const VjpArgs& a, Tensor* g) {
  if (a.needs_grad[0]) g[0] = grad(a);
  if (a.needs_grad[1]) g[1] = a.attrs.i[0] ? grad(a) * -a.attrs.f[0] : -grad(a);
}
void mul_vjp(const VjpArgs& a, Tensor* g) {
  if (a.needs_grad[0]) g[0] = grad(a) * x1(a);
  if (a.needs_grad[1]) g[1] = grad(a) * x0(a);
}
void div_vjp(const VjpArgs& a, Tensor* g) {
  if (a.needs_grad[0]) g[0] = grad(a) / x1(a);
  if (a.needs_grad[1]) g[1] = -grad(a) * (x0(a) / x1(a) / x1(a));  // PyTorch's order
}
// d/da a^e = e a^(e-1) (0 where e == 0); d/de a^e = a^e log a (0 where a == 0 and e >= 0).
void pow_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor &base = x0(a), &e = x1(a);
  if (a.needs_grad[0]) g[0] = grad(a) * where(e == 0, zero(), e * base.pow(e - 1));
  if (a.needs_grad[1]) {
    Tensor at_zero = (base == 0) * ge(e, scalar_tensor(0));
    g[1] = grad(a) * where(at_zero, zero(), y0(a) * log(base));
  }
}
// PyTorch 1.13: ties split the gradient equally between the two inputs.
template <bool Max>
void extremum_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor &x = x0(a), &y = x1(a);
  Tensor shared = where(x == y, grad(a) / 2, grad(a));
  if (a.needs_grad[0]) g[0] = where(Max ? x < y : x > y, zero(), shared);
  if (a.needs_grad[1]) g[1] = where(Max ? x > y : x < y, zero(), shared);
}
void where_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& c = x0(a);
  if (a.needs_grad[1]) g[1] = where(c, grad(a), zero());
  if (a.needs_grad[2]) g[2] = where(c, zero(), grad(a));
}

// ---- unary VJPs ----
void neg_vjp(const VjpArgs& a, Tensor* g) { g[0] = -grad(a); }
void exp_vjp(const VjpArgs& a, Tensor* g) { g[0] = grad(a) * y0(a); }
void log_vjp(const VjpArgs& a, Tensor* g) { g[0] = grad(a) / x0(a); }
void sqrt_vjp(const VjpArgs& a, Tensor* g) { g[0] = grad(a) / (2 * y0(a)); }
void rsqrt_vjp(const VjpArgs& a, Tensor* g) { g[0] = -0.5 * grad(a) * y0(a).pow(3); }
void abs_vjp(const VjpArgs& a, Tensor* g) { g[0] = grad(a) * x0(a).sign(); }
void zero_vjp(const VjpArgs& a, Tensor* g) { g[0] = zeros(a.input_meta[0].shape, a.input_meta[0].dtype); }
void pow_scalar_vjp(const VjpArgs& a, Tensor* g) {
  double e = a.attrs.f[0];
  g[0] = e == 0 ? zeros(a.input_meta[0].shape, a.input_meta[0].dtype) : grad(a) * (e * x0(a).pow(e - 1));
}
void clamp_vjp(const VjpArgs& a, Tensor* g) {
  const Attrs& at = a.attrs;
  const Tensor& x = x0(a);
  Tensor keep;
  if (at.i[0]) keep = ge(x, scalar_tensor(at.f[0]));
  if (at.i[1]) keep = keep.defined() ? keep * le(x, scalar_tensor(at.f[1])) : le(x, scalar_tensor(at.f[1]));
  g[0] = where(keep, grad(a), zero());
}
void relu_vjp(const VjpArgs& a, Tensor* g) { g[0] = where(y0(a) > 0, grad(a), zero()); }
void leaky_relu_vjp(const VjpArgs& a, Tensor* g) { g[0] = where(x0(a) > 0, grad(a), grad(a) * a.attrs.f[0]); }
void elu_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& x = x0(a);
  g[0] = where(le(x, scalar_tensor(0)), grad(a) * a.attrs.f[0] * x.exp(), grad(a));
}
void gelu_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& x = x0(a);
  if (a.attrs.i[0]) {  // tanh form, as PyTorch's GeluBackward
    const double kBeta = M_SQRT2 * M_2_SQRTPI * 0.5, kKappa = 0.044715;
    Tensor x_sq = x * x;
    Tensor t = ((x + kKappa * x_sq * x) * kBeta).tanh();
    Tensor left = 0.5 * x, right = 1 + t;
    Tensor right_derivative = left * (1 - t * t) * (kBeta * (1 + 3 * kKappa * x_sq));
    g[0] = grad(a) * (0.5 * right + right_derivative);
    return;
  }
  const double kAlpha = M_2_SQRTPI * M_SQRT1_2 * 0.5;
  Tensor cdf = 0.5 * (1 + erf(x * M_SQRT1_2));
  Tensor pdf = (x * x * -0.5).exp() * kAlpha;
  g[0] = grad(a) * (cdf + x * pdf);
}
void sigmoid_vjp(const VjpArgs& a, Tensor* g) { g[0] = grad(a) * (1 - y0(a)) * y0(a); }
void tanh_vjp(const VjpArgs& a, Tensor* g) { g[0] = grad(a) * (1 - y0(a) * y0(a)); }
void softplus_vjp(const VjpArgs& a, Tensor* g) {
  Tensor xb = x0(a) * a.attrs.f[0];
  g[0] = where(xb > a.attrs.f[1], grad(a), grad(a) * xb.sigmoid());
}
void erf_vjp(const VjpArgs& a, Tensor* g) { g[0] = grad(a) * (M_2_SQRTPI * (-x0(a) * x0(a)).exp()); }

void def(OpId id, InferFn infer, VjpFn vjp = nullptr, uint32_t save_inputs = 0, uint32_t save_outputs = 0) {
  OpDef& d = define_op(id);
  d.infer = infer;
  d.vjp = vjp;
  d.save_inputs = save_inputs;
  d.save_outputs = save_outputs;
}

}  // namespace

void register_elementwise_ops() {
  using O = OpId;
  def(O::add, binary_infer<O::add>, add_vjp);
  def(O::sub, binary_infer<O::sub>, sub_vjp);
  def(O::mul, binary_infer<O::mul>, mul_vjp, kBothIn);
  def(O::div, float_binary_infer<O::div>, div_vjp, kBothIn);
  def(O::pow, binary_infer<O::pow>, pow_vjp, kBothIn, kOut0);
  def(O::maximum, binary_infer<O::maximum>, extremum_vjp<true>, kBothIn);
  def(O::minimum, binary_infer<O::minimum>, extremum_vjp<false>, kBothIn);
  def(O::eq, binary_infer<O::eq, true>);
  def(O::ne, binary_infer<O::ne, true>);
  def(O::lt, binary_infer<O::lt, true>);
  def(O::le, binary_infer<O::le, true>);
  def(O::gt, binary_infer<O::gt, true>);
  def(O::ge, binary_infer<O::ge, true>);
  def(O::where, where_infer, where_vjp, kIn0);

  def(O::neg, unary_infer, neg_vjp);
  def(O::exp, float_unary_infer<O::exp>, exp_vjp, 0, kOut0);
  def(O::log, float_unary_infer<O::log>, log_vjp, kIn0);
  def(O::sqrt, float_unary_infer<O::sqrt>, sqrt_vjp, 0, kOut0);
  def(O::rsqrt, float_unary_infer<O::rsqrt>, rsqrt_vjp, 0, kOut0);
  def(O::abs, unary_infer, abs_vjp, kIn0);
  def(O::sign, unary_infer, zero_vjp);
  def(O::pow_scalar, unary_infer, pow_scalar_vjp, kIn0);
  def(O::clamp, unary_infer, clamp_vjp, kIn0);
  def(O::logical_not, bool_unary_infer);
  def(O::relu, unary_infer, relu_vjp, 0, kOut0);
  def(O::leaky_relu, float_unary_infer<O::leaky_relu>, leaky_relu_vjp, kIn0);
  def(O::elu, float_unary_infer<O::elu>, elu_vjp, kIn0);
  def(O::gelu, float_unary_infer<O::gelu>, gelu_vjp, kIn0);
  def(O::sigmoid, float_unary_infer<O::sigmoid>, sigmoid_vjp, 0, kOut0);
  def(O::tanh, float_unary_infer<O::tanh>, tanh_vjp, 0, kOut0);
  def(O::softplus, float_unary_infer<O::softplus>, softplus_vjp, kIn0);
  def(O::erf, float_unary_infer<O::erf>, erf_vjp, kIn0);
  // fill overwrites its input: the gradient flowing back through it is zero.
  def(O::fill, unary_infer, zero_vjp);

  register_elementwise_binary_cpu();
  register_elementwise_unary_cpu();
  register_fused_elementwise();
}

}  // namespace nabla::ops
