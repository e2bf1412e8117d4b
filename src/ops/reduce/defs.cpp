// Reduction ops: sum/prod/amax/amin over a set of dims, max/min/argmax/argmin along one dim,
// softmax/log_softmax along one dim. Attribute use is listed in op_list.def: attrs.shape = reduced
// dims (sorted, unique, normalised by the public API), i0 = keepdim, i1 = the single dim.
#include "nabla/creation.h"
#include "nabla/ops.h"
#include "ops/reduce/reduce.h"

namespace nabla::ops {
namespace {

// ---- shape rules ----
Shape reduced_shape(const Shape& s, const Shape& dims, bool keepdim) {
  Shape o;
  int j = 0;
  for (int d = 0; d < s.size(); ++d) {
    bool reduced = j < dims.size() && dims[j] == d;
    if (!reduced)
      o.push_back(s[d]);
    else if (keepdim)
      o.push_back(1);
    j += reduced;
  }
  return o;
}

void check_dims(const char* op, const Tensor& x, const Shape& dims, bool nonempty) {
  for (int k = 0; k < dims.size(); ++k) {
    NABLA_CHECK(dims[k] >= 0 && dims[k] < x.dim() && (k == 0 || dims[k] > dims[k - 1]), op, ": invalid dims ",
                dims, " for a tensor of shape ", x.shape());
    NABLA_CHECK(!nonempty || x.shape()[static_cast<int>(dims[k])] > 0, op, ": cannot reduce dim ", dims[k],
                " of size 0 (input shape ", x.shape(), "); the reduction has no identity");
  }
}

/// sum and prod: integers and bool accumulate to int64, like PyTorch.
template <const char* kName>
void sum_like_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_dims(kName, in[0], a.shape, false);
  DType t = is_floating(in[0].dtype()) ? in[0].dtype() : kInt64;
  out[0] = {reduced_shape(in[0].shape(), a.shape, a.i[0] != 0), t};
}
template <const char* kName>
void extreme_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_dims(kName, in[0], a.shape, true);
  out[0] = {reduced_shape(in[0].shape(), a.shape, a.i[0] != 0), in[0].dtype()};
}
constexpr char kSum[] = "sum", kProd[] = "prod", kAmax[] = "amax", kAmin[] = "amin";

/// The single-dim ops: values keep the dtype, indices are int64.
template <const char* kName>
Shape dim_shape(const Tensor& x, const Attrs& a) {
  int64_t d = a.i[1];
  NABLA_CHECK(x.dim() > 0 && d >= 0 && d < x.dim(), kName, ": invalid dim ", d, " for a tensor of shape ",
              x.shape());
  NABLA_CHECK(x.shape()[static_cast<int>(d)] > 0, kName, ": cannot reduce dim ", d,
              " of size 0 (input shape ", x.shape(), ")");
  Shape dims;
  dims.push_back(d);
  return reduced_shape(x.shape(), dims, a.i[0] != 0);
}
template <const char* kName>
void values_indices_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  Shape s = dim_shape<kName>(in[0], a);
  out[0] = {s, in[0].dtype()};
  out[1] = {s, kInt64};
}
template <const char* kName>
void indices_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  out[0] = {dim_shape<kName>(in[0], a), kInt64};
}
constexpr char kMax[] = "max", kMin[] = "min", kArgmax[] = "argmax", kArgmin[] = "argmin";

template <const char* kName>
void softmax_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(is_floating(in[0].dtype()), kName, ": expected a floating point input, got ", in[0].dtype());
  NABLA_CHECK(in[0].dim() > 0 && a.i[1] >= 0 && a.i[1] < in[0].dim(), kName, ": invalid dim ", a.i[1],
              " for a tensor of shape ", in[0].shape());
  out[0] = {in[0].shape(), in[0].dtype()};
}
constexpr char kSoftmax[] = "softmax", kLogSoftmax[] = "log_softmax";

// ---- VJPs (public ops only) ----
/// A reduced result seen with the input's rank (reduced dims as size 1), for broadcasting back.
Tensor keep_dims(const Tensor& t, const Attrs& a) {
  if (a.i[0]) return t;
  Tensor r = t;
  for (int64_t d : a.shape) r = r.unsqueeze(d);  // ascending, so each d is already final
  return r;
}
Tensor keep_dim(const Tensor& t, const Attrs& a) { return a.i[0] ? t : t.unsqueeze(a.i[1]); }

void sum_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = keep_dims(a.grad_outputs[0], a.attrs).expand(a.input_meta[0].shape);
}

// d prod / d x_i = prod of the others. out / x_i unless x_i == 0; there it is the product of the
// non-zero elements when x_i is the only zero, else 0. The division uses a safe denominator so
// the unselected branch never makes NaNs in second derivatives.
void prod_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& x = a.inputs[0];
  Tensor out = keep_dims(a.outputs[0], a.attrs);
  Tensor zero = x == Scalar(0);
  Tensor nz = where(zero, scalar_tensor(1), x);
  Tensor only_zero = sum(zero, a.attrs.shape, true) == Scalar(1);
  Tensor at_zero = where(only_zero, prod(nz, a.attrs.shape, true), scalar_tensor(0));
  g[0] = keep_dims(a.grad_outputs[0], a.attrs) * where(zero, at_zero, out / nz);
}

// Ties share the gradient equally, like PyTorch's amax/amin.
void extreme_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& x = a.inputs[0];
  Tensor mask = (x == keep_dims(a.outputs[0], a.attrs)).to(x.dtype());
  g[0] = keep_dims(a.grad_outputs[0], a.attrs) * mask / sum(mask, a.attrs.shape, true);
}

// The gradient goes to the selected index: a one-hot mask from comparing indices with arange.
void values_indices_vjp(const VjpArgs& a, Tensor* g) {
  int d = static_cast<int>(a.attrs.i[1]);
  const Shape& s = a.input_meta[0].shape;
  Shape ar_shape;
  ar_shape.resize(s.size(), 1);
  ar_shape[d] = s[d];
  Tensor mask = eq(keep_dim(a.outputs[1], a.attrs), arange(s[d]).reshape(ar_shape));
  g[0] = where(mask, keep_dim(a.grad_outputs[0], a.attrs), scalar_tensor(0));
}

void softmax_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& y = a.outputs[0];
  const Tensor& go = a.grad_outputs[0];
  g[0] = y * (go - sum(go * y, {a.attrs.i[1]}, true));
}
void log_softmax_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& go = a.grad_outputs[0];
  g[0] = go - exp(a.outputs[0]) * sum(go, {a.attrs.i[1]}, true);
}

void def(OpId id, InferFn infer, VjpFn vjp, KernelFn cpu, uint32_t save_in, uint32_t save_out, int nout = 1) {
  OpDef& d = define_op(id);
  d.infer = infer;
  d.vjp = vjp;
  d.kernels[kCpu] = cpu;
  d.save_inputs = save_in;
  d.save_outputs = save_out;
  d.num_outputs = static_cast<uint8_t>(nout);
}

}  // namespace

void register_reduce_ops() {
  def(OpId::sum, sum_like_infer<kSum>, sum_vjp, reduce_cpu::sum, 0, 0);
  def(OpId::prod, sum_like_infer<kProd>, prod_vjp, reduce_cpu::prod, 1, 1);
  def(OpId::amax, extreme_infer<kAmax>, extreme_vjp, reduce_cpu::amax, 1, 1);
  def(OpId::amin, extreme_infer<kAmin>, extreme_vjp, reduce_cpu::amin, 1, 1);
  def(OpId::max_dim, values_indices_infer<kMax>, values_indices_vjp, reduce_cpu::max_dim, 0, 2, 2);
  def(OpId::min_dim, values_indices_infer<kMin>, values_indices_vjp, reduce_cpu::min_dim, 0, 2, 2);
  def(OpId::argmax, indices_infer<kArgmax>, nullptr, reduce_cpu::argmax, 0, 0);
  def(OpId::argmin, indices_infer<kArgmin>, nullptr, reduce_cpu::argmin, 0, 0);
  def(OpId::softmax, softmax_infer<kSoftmax>, softmax_vjp, reduce_cpu::softmax, 0, 1);
  def(OpId::log_softmax, softmax_infer<kLogSoftmax>, log_softmax_vjp, reduce_cpu::log_softmax, 0, 1);
  reduce_cpu::register_softmax_xent();
}

}  // namespace nabla::ops
