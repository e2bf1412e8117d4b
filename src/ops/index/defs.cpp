// Index ops: gather / scatter_add and index_select / index_add, each pair the other's gradient.
// All take an int64 or int32 index tensor and i0 = dim (normalised by the API). Index values are
// range-checked by the kernels before anything is written (infer sees shapes only).
#include "nabla/creation.h"
#include "nabla/ops.h"
#include "ops/index/index.h"

namespace nabla::ops {
namespace {

void check_index_dtype(const Tensor& index, const char* op) {
  NABLA_CHECK(index.dtype() == kInt64 || index.dtype() == kInt32, op, ": index must be int64 or int32, got ",
              index.dtype());
}

// torch's rule for gather/scatter: same number of dims; the index may be smaller than `t` in
// every dim except (when skip >= 0) dim `skip`.
void check_index_fits(const Tensor& index, const Tensor& t, int skip, const char* op, const char* what) {
  NABLA_CHECK(index.dim() == t.dim(), op, ": index ", index.shape(), " must have as many dims as ", what, " ",
              t.shape());
  for (int d = 0; d < t.dim(); ++d)
    NABLA_CHECK(d == skip || index.shape()[d] <= t.shape()[d], op, ": index ", index.shape(),
                " is larger than ", what, " ", t.shape(), " in dim ", d);
}

Tensor zeros_of(const TensorMeta& m, const Tensor& like) {
  return zeros(m.shape, {like.dtype(), like.device()});
}

// ---- gather: out[i][j] = a[index[i][j]][j] (dim 0); out has the index's shape ----
void gather_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_index_dtype(in[1], "gather");
  check_index_fits(in[1], in[0], static_cast<int>(a.i[0]), "gather", "input");
  out[0] = {in[1].shape(), in[0].dtype()};
}
void gather_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& go = a.grad_outputs[0];
  g[0] = scatter_add(zeros_of(a.input_meta[0], go), a.attrs.i[0], a.inputs[1], go);
}

// ---- scatter_add: out = a; out[index[i][j]][j] += src[i][j] (dim 0) ----
void scatter_add_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_index_dtype(in[1], "scatter_add");
  NABLA_CHECK(in[0].dtype() == in[2].dtype(), "scatter_add: input has dtype ", in[0].dtype(), " but src has ",
              in[2].dtype());
  check_index_fits(in[1], in[0], static_cast<int>(a.i[0]), "scatter_add", "input");
  check_index_fits(in[1], in[2], -1, "scatter_add", "src");
  out[0] = {in[0].shape(), in[0].dtype()};
}
void scatter_add_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& go = a.grad_outputs[0];
  if (a.needs_grad[0]) g[0] = go;
  if (a.needs_grad[2]) {
    // src may be larger than the index (torch allows it); its uncovered part gets zero gradient.
    Tensor gs = gather(go, a.attrs.i[0], a.inputs[1]);
    const Shape& ss = a.input_meta[2].shape;
    if (gs.shape() != ss) {
      std::vector<int64_t> pads;
      for (int d = ss.size() - 1; d >= 0; --d) {
        pads.push_back(0);
        pads.push_back(ss[d] - gs.shape()[d]);
      }
      gs = pad(gs, pads);
    }
    g[2] = gs;
  }
}

// ---- index_select: out.select(dim, k) = a.select(dim, index[k]); index 1-d ----
void index_select_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_index_dtype(in[1], "index_select");
  NABLA_CHECK(in[1].dim() == 1, "index_select: index must be 1-d, got shape ", in[1].shape());
  Shape s = in[0].shape();
  s[static_cast<int>(a.i[0])] = in[1].numel();
  out[0] = {s, in[0].dtype()};
}
void index_select_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& go = a.grad_outputs[0];
  g[0] = index_add(zeros_of(a.input_meta[0], go), a.attrs.i[0], a.inputs[1], go);
}

// ---- index_add: out = a; out.select(dim, index[k]) += f0 * src.select(dim, k) ----
void index_add_infer(const Tensor* in, int, const Attrs& a, TensorMeta* out) {
  check_index_dtype(in[1], "index_add");
  NABLA_CHECK(in[1].dim() == 1, "index_add: index must be 1-d, got shape ", in[1].shape());
  NABLA_CHECK(in[0].dtype() == in[2].dtype(), "index_add: input has dtype ", in[0].dtype(),
              " but source has ", in[2].dtype());
  int d = static_cast<int>(a.i[0]);
  Shape expect = in[0].shape();
  expect[d] = in[1].numel();
  NABLA_CHECK(in[2].shape() == expect, "index_add: source must have shape ", expect, " (input ",
              in[0].shape(), " with dim ", d, " replaced by the index length ", in[1].numel(), "), got ",
              in[2].shape());
  out[0] = {in[0].shape(), in[0].dtype()};
}
void index_add_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& go = a.grad_outputs[0];
  if (a.needs_grad[0]) g[0] = go;
  if (a.needs_grad[2]) {
    Tensor gs = index_select(go, a.attrs.i[0], a.inputs[1]);
    g[2] = a.attrs.f[0] == 1.0 ? gs : gs * a.attrs.f[0];
  }
}

void def(OpId id, InferFn infer, VjpFn vjp, KernelFn cpu) {
  OpDef& d = define_op(id);
  d.infer = infer;
  d.vjp = vjp;
  d.save_inputs = 1u << 1;  // every VJP here reads the index
  d.kernels[kCpu] = cpu;
}

}  // namespace

void register_index_ops() {
  def(OpId::gather, gather_infer, gather_vjp, index_cpu::gather);
  def(OpId::scatter_add, scatter_add_infer, scatter_add_vjp, index_cpu::scatter_add);
  def(OpId::index_select, index_select_infer, index_select_vjp, index_cpu::index_select);
  def(OpId::index_add, index_add_infer, index_add_vjp, index_cpu::index_add);
}

}  // namespace nabla::ops
