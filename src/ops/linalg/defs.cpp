// Linear algebra ops: batch-broadcast matmul and the fused linear layer. Kernels in cpu.cpp.
#include "nabla/ops.h"
#include "ops/linalg/linalg.h"

namespace nabla::ops {
namespace {

void check_operand_dtypes(const char* op, const Tensor& a, const Tensor& b) {
  NABLA_CHECK(a.dtype() == b.dtype(), op, ": expected operands of one dtype, got ", a.dtype(), " and ",
              b.dtype());
  NABLA_CHECK(a.dtype() != kBool, op, ": not implemented for bool tensors");
}

// ---- matmul: a [..., M, K] @ b [..., K, N] -> [batch..., M, N]; batch dims broadcast ----
void matmul_infer(const Tensor* in, int, const Attrs&, TensorMeta* out) {
  const Shape &sa = in[0].shape(), &sb = in[1].shape();
  NABLA_CHECK(sa.size() >= 2 && sb.size() >= 2,
              "matmul: the primitive needs operands with >= 2 dims, got shapes ", sa, " and ", sb);
  int na = sa.size(), nb = sb.size();
  NABLA_CHECK(sa[na - 1] == sb[nb - 2], "matmul: shapes ", sa, " and ", sb, " cannot be multiplied (",
              sa[na - 1], " != ", sb[nb - 2], ")");
  check_operand_dtypes("matmul", in[0], in[1]);
  int nd = std::max(na, nb);
  Shape s;
  s.resize(nd);
  for (int i = 0; i < nd - 2; ++i) {
    int ia = i - (nd - na), ib = i - (nd - nb);
    int64_t da = ia >= 0 ? sa[ia] : 1, db = ib >= 0 ? sb[ib] : 1;
    NABLA_CHECK(da == db || da == 1 || db == 1, "matmul: batch dims of shapes ", sa, " and ", sb,
                " cannot be broadcast (", da, " vs ", db, " at dim ", i, ")");
    s[i] = da == 1 ? db : da;
  }
  s[nd - 2] = sa[na - 2];
  s[nd - 1] = sb[nb - 1];
  out[0] = {s, in[0].dtype()};
}
// d(a@b): ga = g @ b^T, gb = a^T @ g; the engine sums broadcast batch dims back.
void matmul_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& go = a.grad_outputs[0];
  const Tensor &x = a.inputs[0], &y = a.inputs[1];
  if (a.needs_grad[0]) g[0] = matmul(go, y.transpose(-1, -2));
  if (a.needs_grad[1]) {
    if (y.dim() == 2 && x.dim() > 2) {
      // b shared by every batch: one GEMM over the flattened batch instead of a batch of them + sum.
      int64_t K = x.size(-1), N = go.size(-1);
      g[1] = mm(x.reshape({-1, K}).t(), go.reshape({-1, N}));
    } else {
      g[1] = matmul(x.transpose(-1, -2), go);
    }
  }
}

// ---- linear: x [..., in] @ W[out, in]^T + b[out] (b optional, third input) ----
void linear_infer(const Tensor* in, int n, const Attrs&, TensorMeta* out) {
  const Shape &sx = in[0].shape(), &sw = in[1].shape();
  NABLA_CHECK(sw.size() == 2, "linear: expected a 2-d weight [out_features, in_features], got shape ", sw);
  NABLA_CHECK(sx.size() >= 1, "linear: expected an input with >= 1 dims, got shape ", sx);
  NABLA_CHECK(sx.back() == sw[1], "linear: input of shape ", sx, " does not match weight of shape ", sw, " (",
              sx.back(), " != ", sw[1], " in_features)");
  check_operand_dtypes("linear", in[0], in[1]);
  if (n == 3) {
    const Shape& sb = in[2].shape();
    NABLA_CHECK(sb.size() == 1 && sb[0] == sw[0], "linear: bias of shape ", sb,
                " does not match weight of shape ", sw, " (expected [", sw[0], "])");
    NABLA_CHECK(in[2].dtype() == in[0].dtype(), "linear: bias has dtype ", in[2].dtype(), " but input has ",
                in[0].dtype());
  }
  Shape s = sx;
  s[s.size() - 1] = sw[0];
  out[0] = {s, in[0].dtype()};
}
// gx = g @ W, gW = g^T @ x and gb = sum of g, with the leading dims flattened.
void linear_vjp(const VjpArgs& a, Tensor* g) {
  const Tensor& go = a.grad_outputs[0];
  int64_t out_f = a.input_meta[1].shape[0], in_f = a.input_meta[1].shape[1];
  if (a.needs_grad[0]) g[0] = matmul(go, a.inputs[1]);
  if (a.needs_grad[1]) g[1] = mm(go.reshape({-1, out_f}).t(), a.inputs[0].reshape({-1, in_f}));
  if (a.num_inputs == 3 && a.needs_grad[2]) g[2] = go.reshape({-1, out_f}).sum({0});
}

}  // namespace

void register_linalg_ops() {
  auto& mm = define_op(OpId::matmul);
  mm.infer = matmul_infer;
  mm.vjp = matmul_vjp;
  mm.save_inputs = 0b11;
  mm.kernels[kCpu] = linalg_cpu::matmul;
  auto& lin = define_op(OpId::linear);
  lin.infer = linear_infer;
  lin.vjp = linear_vjp;
  lin.save_inputs = 0b011;
  lin.kernels[kCpu] = linalg_cpu::linear;
}

}  // namespace nabla::ops
