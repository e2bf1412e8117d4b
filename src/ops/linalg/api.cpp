// Public linalg API: matmul (torch.matmul semantics), mm, bmm, linear, Tensor::matmul.
// 1-d operands are promoted to matrices around the one matmul primitive and squeezed after.
#include "nabla/ops.h"
#include "ops/registry.h"

namespace nabla {
using ops::Attrs;
using ops::dispatch1;
using ops::OpId;

namespace {
Tensor as_dtype(const Tensor& t, DType d) { return t.dtype() == d ? t : t.to(d); }

void check_inner(const char* op, const Tensor& a, const Tensor& b) {
  int64_t ka = a.size(-1), kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  NABLA_CHECK(ka == kb, op, ": shapes ", a.shape(), " and ", b.shape(), " cannot be multiplied (", ka,
              " != ", kb, ")");
}

Tensor matmul_prim(const Tensor& a, const Tensor& b) {
  DType d = promote_types(a.dtype(), b.dtype());
  return dispatch1(OpId::matmul, {as_dtype(a, d), as_dtype(b, d)});
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  NABLA_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both arguments need at least 1 dim, but got shapes ",
              a.shape(), " and ", b.shape());
  check_inner("matmul", a, b);
  if (a.dim() >= 2 && b.dim() >= 2) return matmul_prim(a, b);
  if (a.dim() == 1 && b.dim() == 1) return matmul_prim(a.unsqueeze(0), b.unsqueeze(1)).view(Shape{});
  if (a.dim() == 1) return matmul_prim(a.unsqueeze(0), b).squeeze(-2);
  return matmul_prim(a, b.unsqueeze(1)).squeeze(-1);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  NABLA_CHECK(a.dim() == 2 && b.dim() == 2, "mm: expected 2-d tensors, but got shapes ", a.shape(), " and ",
              b.shape());
  check_inner("mm", a, b);
  return matmul_prim(a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  NABLA_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expected 3-d tensors, but got shapes ", a.shape(), " and ",
              b.shape());
  NABLA_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: shapes ", a.shape(), " and ", b.shape(), " (",
              a.size(0), " != ", b.size(0), ")");
  check_inner("bmm", a, b);
  return matmul_prim(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  DType d = promote_types(x.dtype(), weight.dtype());
  if (bias.defined()) {
    d = promote_types(d, bias.dtype());
    return dispatch1(OpId::linear, {as_dtype(x, d), as_dtype(weight, d), as_dtype(bias, d)});
  }
  return dispatch1(OpId::linear, {as_dtype(x, d), as_dtype(weight, d)});
}

Tensor Tensor::matmul(const Tensor& other) const { return nabla::matmul(*this, other); }

}  // namespace nabla
