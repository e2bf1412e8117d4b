// Movement ops: views (no kernel, output aliases input 0) and the copies that undo them.
// Attribute use is listed in op_list.def.
#include "nabla/ops.h"
#include "ops/cpu_loops.h"
#include "ops/movement/movement.h"

namespace nabla::ops {

// PyTorch's computeStride: groups of input dims that are contiguous with each other can be
// re-split freely; a group boundary must line up with an output dim boundary.
bool view_strides_for(const Tensor& in, const Shape& shape, Shape& strides) {
  strides.resize(shape.size());
  if (in.numel() == 0 || in.dim() == 0) {
    strides = contiguous_strides(shape);
    return true;
  }
  const Shape& os = in.shape();
  const Shape& ost = in.strides();
  int view_d = shape.size() - 1;
  int64_t chunk_base_stride = ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int tensor_d = os.size() - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= os[tensor_d];
    if (tensor_d == 0 || (os[tensor_d - 1] != 1 && ost[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (tensor_d > 0) {
        chunk_base_stride = ost[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

namespace {

TensorMeta same_dtype(const Tensor& t, const Shape& s) { return {s, t.dtype()}; }

// ---- view: reshape without copying (attrs.shape = target, -1 already resolved) ----
void view_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(a.shape.numel() == in[0].numel(), "view: shape ", a.shape, " is invalid for input of shape ",
              in[0].shape(), " (", a.shape.numel(), " vs ", in[0].numel(), " elements)");
  out[0] = same_dtype(in[0], a.shape);
}
void view_strides(const Tensor& in, const Attrs&, const Shape& shape, Shape& strides, int64_t& offset) {
  offset = in.storage_offset();
  NABLA_CHECK(view_strides_for(in, shape, strides), "view: shape ", shape,
              " is not compatible with the input's shape ", in.shape(), " and strides ", in.strides(),
              " (the data is not contiguous); use reshape(), which copies");
}
void view_vjp(const VjpArgs& a, Tensor* g) { g[0] = a.grad_outputs[0].reshape(a.input_meta[0].shape); }

// ---- permute (attrs.shape = permutation) ----
void permute_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  int nd = in[0].dim();
  NABLA_CHECK(a.shape.size() == nd, "permute: got ", a.shape.size(), " dims ", a.shape, " for a tensor with ",
              nd, " dims");
  bool seen[kMaxDims] = {};
  Shape s;
  for (int i = 0; i < nd; ++i) {
    int d = wrap_dim(a.shape[i], nd, "permute");
    NABLA_CHECK(!seen[d], "permute: dim ", d, " appears twice in ", a.shape);
    seen[d] = true;
    s.push_back(in[0].shape()[d]);
  }
  out[0] = same_dtype(in[0], s);
}
void permute_strides(const Tensor& in, const Attrs& a, const Shape&, Shape& strides, int64_t& offset) {
  offset = in.storage_offset();
  strides.resize(in.dim());
  for (int i = 0; i < in.dim(); ++i) strides[i] = in.strides()[wrap_dim(a.shape[i], in.dim(), "permute")];
}
void permute_vjp(const VjpArgs& a, Tensor* g) {
  int nd = a.attrs.shape.size();
  Shape inv;
  inv.resize(nd);
  for (int i = 0; i < nd; ++i) inv[wrap_dim(a.attrs.shape[i], nd, "permute")] = i;
  g[0] = a.grad_outputs[0].permute(inv);
}

// ---- expand (attrs.shape = target; -1 keeps a dim) ----
void expand_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  const Shape& s = in[0].shape();
  NABLA_CHECK(a.shape.size() >= s.size(), "expand: the target shape ", a.shape,
              " has fewer dims than the input ", s);
  Shape o = a.shape;
  int off = o.size() - s.size();
  for (int i = 0; i < o.size(); ++i) {
    int j = i - off;
    if (j >= 0 && o[i] == -1) o[i] = s[j];
    NABLA_CHECK(o[i] >= 0, "expand: invalid size ", o[i], " at dim ", i, " of ", a.shape);
    NABLA_CHECK(j < 0 || s[j] == o[i] || s[j] == 1, "expand: the input's size ", s[j], " at dim ", j,
                " must match the target size ", o[i], " or be 1 (input ", s, ", target ", a.shape, ")");
  }
  out[0] = same_dtype(in[0], o);
}
void expand_strides(const Tensor& in, const Attrs&, const Shape& shape, Shape& strides, int64_t& offset) {
  offset = in.storage_offset();
  strides = cpu::broadcast_strides(in, shape);
}
void expand_vjp(const VjpArgs& a, Tensor* g) { g[0] = a.grad_outputs[0]; }  // dispatcher sums to input shape

// ---- slice (i0 = dim, i1 = start, i2 = end, i3 = step; normalised by the caller) ----
int64_t slice_len(int64_t start, int64_t end, int64_t step) {
  return end > start ? (end - start + step - 1) / step : 0;
}
void slice_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  Shape s = in[0].shape();
  s[static_cast<int>(a.i[0])] = slice_len(a.i[1], a.i[2], a.i[3]);
  out[0] = same_dtype(in[0], s);
}
void slice_strides(const Tensor& in, const Attrs& a, const Shape&, Shape& strides, int64_t& offset) {
  int d = static_cast<int>(a.i[0]);
  strides = in.strides();
  offset = in.storage_offset() + a.i[1] * strides[d];
  strides[d] *= a.i[3];
}
void slice_vjp(const VjpArgs& a, Tensor* g) {
  Attrs b = a.attrs;
  b.shape = a.input_meta[0].shape;
  g[0] = dispatch1(OpId::slice_backward, {a.grad_outputs[0]}, b);
}

// ---- select (i0 = dim, i1 = index, normalised) ----
void select_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  Shape s = in[0].shape();
  s.erase(static_cast<int>(a.i[0]));
  out[0] = same_dtype(in[0], s);
}
void select_strides(const Tensor& in, const Attrs& a, const Shape&, Shape& strides, int64_t& offset) {
  int d = static_cast<int>(a.i[0]);
  strides = in.strides();
  offset = in.storage_offset() + a.i[1] * strides[d];
  strides.erase(d);
}
void select_vjp(const VjpArgs& a, Tensor* g) {
  Attrs b;
  b.shape = a.input_meta[0].shape;
  b.i[0] = a.attrs.i[0];
  b.i[1] = a.attrs.i[1];
  b.i[2] = a.attrs.i[1] + 1;
  b.i[3] = 1;
  g[0] = dispatch1(OpId::slice_backward, {a.grad_outputs[0].unsqueeze(a.attrs.i[0])}, b);
}

// ---- squeeze (attrs.shape = dims to drop, ascending) / unsqueeze (i0 = dim) ----
void squeeze_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  Shape s = in[0].shape();
  for (int k = a.shape.size() - 1; k >= 0; --k) s.erase(static_cast<int>(a.shape[k]));
  out[0] = same_dtype(in[0], s);
}
void squeeze_strides(const Tensor& in, const Attrs& a, const Shape&, Shape& strides, int64_t& offset) {
  offset = in.storage_offset();
  strides = in.strides();
  for (int k = a.shape.size() - 1; k >= 0; --k) strides.erase(static_cast<int>(a.shape[k]));
}
void unsqueeze_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  Shape s = in[0].shape();
  s.insert(static_cast<int>(a.i[0]), 1);
  out[0] = same_dtype(in[0], s);
}
void unsqueeze_strides(const Tensor& in, const Attrs& a, const Shape&, Shape& strides, int64_t& offset) {
  offset = in.storage_offset();
  strides = in.strides();
  int d = static_cast<int>(a.i[0]);
  strides.insert(d, d < in.dim() ? in.strides()[d] * in.shape()[d] : 1);
}
void reshape_back_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = a.grad_outputs[0].reshape(a.input_meta[0].shape);
}

// ---- copy (attrs.dtype = output dtype) ----
void copy_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) { out[0] = {in[0].shape(), a.dtype}; }
void copy_vjp(const VjpArgs& a, Tensor* g) { g[0] = a.grad_outputs[0]; }  // dispatcher casts back

// ---- slice_backward (attrs.shape = base shape, i0..i3 as slice) ----
void slice_backward_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  out[0] = same_dtype(in[0], a.shape);
}
void slice_backward_vjp(const VjpArgs& a, Tensor* g) {
  g[0] = a.grad_outputs[0].slice(a.attrs.i[0], a.attrs.i[1], a.attrs.i[2], a.attrs.i[3]);
}

// ---- cat (i0 = dim, normalised) ----
void cat_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(n > 0, "cat: expected a non-empty list of tensors");
  int d = static_cast<int>(a.i[0]);
  Shape s = in[0].shape();
  DType t = in[0].dtype();
  for (int k = 1; k < n; ++k) {
    const Shape& sk = in[k].shape();
    NABLA_CHECK(sk.size() == s.size(), "cat: tensor 0 has ", s.size(), " dims but tensor ", k, " has ",
                sk.size(), " (shapes ", s, " and ", sk, ")");
    for (int i = 0; i < s.size(); ++i)
      NABLA_CHECK(i == d || sk[i] == s[i], "cat: sizes must match except in dim ", d,
                  ", but tensor 0 has shape ", in[0].shape(), " and tensor ", k, " has shape ", sk);
    NABLA_CHECK(in[k].dtype() == t, "cat: tensor 0 has dtype ", t, " but tensor ", k, " has ", in[k].dtype());
    s[d] += sk[d];
  }
  out[0] = {s, t};
}
void cat_vjp(const VjpArgs& a, Tensor* g) {
  int64_t start = 0;
  int d = static_cast<int>(a.attrs.i[0]);
  for (int k = 0; k < a.num_inputs; ++k) {
    int64_t len = a.input_meta[k].shape[d];
    if (a.needs_grad[k]) g[k] = a.grad_outputs[0].narrow(d, start, len);
    start += len;
  }
}

// ---- pad (i[2d], i[2d+1] = before/after along dim d; f0 = value) ----
void pad_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  Shape s = in[0].shape();
  for (int d = 0; d < s.size(); ++d) s[d] += a.i[2 * d] + a.i[2 * d + 1];
  out[0] = same_dtype(in[0], s);
}
void pad_vjp(const VjpArgs& a, Tensor* g) {
  Tensor r = a.grad_outputs[0];
  const Shape& s = a.input_meta[0].shape;
  for (int d = 0; d < s.size(); ++d)
    if (a.attrs.i[2 * d] || a.attrs.i[2 * d + 1]) r = r.narrow(d, a.attrs.i[2 * d], s[d]);
  g[0] = r;
}

void def_view(OpId id, InferFn infer, ViewFn view, VjpFn vjp) {
  OpDef& d = define_op(id);
  d.infer = infer;
  d.view = view;
  d.vjp = vjp;
}

}  // namespace

void register_movement_ops() {
  def_view(OpId::view, view_infer, view_strides, view_vjp);
  def_view(OpId::permute, permute_infer, permute_strides, permute_vjp);
  def_view(OpId::expand, expand_infer, expand_strides, expand_vjp);
  def_view(OpId::slice, slice_infer, slice_strides, slice_vjp);
  def_view(OpId::select, select_infer, select_strides, select_vjp);
  def_view(OpId::squeeze, squeeze_infer, squeeze_strides, reshape_back_vjp);
  def_view(OpId::unsqueeze, unsqueeze_infer, unsqueeze_strides, reshape_back_vjp);

  auto& copy = define_op(OpId::copy);
  copy.infer = copy_infer;
  copy.vjp = copy_vjp;
  copy.kernels[kCpu] = movement_cpu::copy;
  auto& sb = define_op(OpId::slice_backward);
  sb.infer = slice_backward_infer;
  sb.vjp = slice_backward_vjp;
  sb.kernels[kCpu] = movement_cpu::slice_backward;
  auto& cat = define_op(OpId::cat);
  cat.infer = cat_infer;
  cat.vjp = cat_vjp;
  cat.kernels[kCpu] = movement_cpu::cat;
  auto& pad = define_op(OpId::pad);
  pad.infer = pad_infer;
  pad.vjp = pad_vjp;
  pad.kernels[kCpu] = movement_cpu::pad;
}

}  // namespace nabla::ops
