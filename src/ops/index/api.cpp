// Public index API: the four primitives (gather, scatter_add, index_select, index_add) and the
// composites built on them or on `where` (one_hot, embedding, masked_fill, tril, triu).
#include <algorithm>

#include "nabla/creation.h"
#include "nabla/ops.h"
#include "ops/registry.h"

namespace nabla {
using ops::Attrs;
using ops::dispatch1;
using ops::OpId;

namespace {

void check_index(const Tensor& index, const char* op) {
  NABLA_CHECK(index.dtype() == kInt64 || index.dtype() == kInt32, op, ": index must be int64 or int32, got ",
              index.dtype());
}

// torch lets 0-dim tensors take dim 0 or -1.
int wrap_index_dim(int64_t dim, int ndim, const char* op) { return wrap_dim(dim, ndim > 0 ? ndim : 1, op); }

Attrs dim_attr(int64_t dim) {
  Attrs a;
  a.i[0] = dim;
  return a;
}

// Bool [n, m] mask: lower keeps j - i <= diagonal (tril), upper keeps j - i >= diagonal (triu).
Tensor tri_mask(int64_t n, int64_t m, int64_t diagonal, bool lower) {
  Tensor mask = empty({n, m}, kBool);
  bool* p = mask.data_ptr<bool>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) p[i * m + j] = lower ? j - i <= diagonal : j - i >= diagonal;
  return mask;
}

Tensor tri(const Tensor& a, int64_t diagonal, bool lower, const char* op) {
  NABLA_CHECK(a.dim() >= 2, op, ": expects a tensor with at least 2 dims, got shape ", a.shape());
  Tensor mask = tri_mask(a.size(-2), a.size(-1), diagonal, lower).to(a.device());
  // where (not a * mask): entries outside the triangle become 0 even when they are inf or nan,
  // and the gradient is the mask.
  return where(mask, a, full({}, 0, {a.dtype(), a.device()}));
}

}  // namespace

Tensor gather(const Tensor& a, int64_t dim, const Tensor& index) {
  check_index(index, "gather");
  int d = wrap_index_dim(dim, a.dim(), "gather");
  if (a.dim() == 0 && index.dim() == 0) return gather(a.reshape({1}), 0, index.reshape({1})).reshape({});
  return dispatch1(OpId::gather, {a, index}, dim_attr(d));
}

Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  check_index(index, "scatter_add");
  int d = wrap_index_dim(dim, a.dim(), "scatter_add");
  if (a.dim() == 0 && index.dim() == 0 && src.dim() <= 1)
    return scatter_add(a.reshape({1}), 0, index.reshape({1}), src.reshape({-1})).reshape({});
  return dispatch1(OpId::scatter_add, {a, index, src.to(a.dtype())}, dim_attr(d));
}

Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index) {
  check_index(index, "index_select");
  NABLA_CHECK(index.dim() <= 1, "index_select: index must be 0-d or 1-d, got shape ", index.shape());
  int d = wrap_index_dim(dim, a.dim(), "index_select");
  Tensor idx = index.dim() == 0 ? index.reshape({1}) : index;
  if (a.dim() == 0) return dispatch1(OpId::index_select, {a.reshape({1}), idx}, dim_attr(0)).reshape({});
  return dispatch1(OpId::index_select, {a, idx}, dim_attr(d));
}

Tensor index_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src, const Scalar& alpha) {
  check_index(index, "index_add");
  NABLA_CHECK(index.dim() <= 1, "index_add: index must be 0-d or 1-d, got shape ", index.shape());
  int d = wrap_index_dim(dim, a.dim(), "index_add");
  Attrs at = dim_attr(d);
  at.f[0] = alpha.to_double();
  Tensor idx = index.dim() == 0 ? index.reshape({1}) : index;
  Tensor s = src.to(a.dtype());
  if (a.dim() == 0) return dispatch1(OpId::index_add, {a.reshape({1}), idx, s.reshape({-1})}, at).reshape({});
  return dispatch1(OpId::index_add, {a, idx, s}, at);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  NABLA_CHECK(is_integral(indices.dtype()), "one_hot: indices must be an int64 tensor of class indices, got ",
              indices.dtype());
  std::vector<int64_t> v = indices.to_vector<int64_t>();
  if (num_classes < 0) {
    NABLA_CHECK(!v.empty(),
                "one_hot: cannot infer the number of classes from an empty tensor; pass num_classes");
    num_classes = *std::max_element(v.begin(), v.end()) + 1;
  }
  for (int64_t c : v) {
    NABLA_CHECK(c >= 0, "one_hot: class values must be non-negative, got ", c);
    NABLA_CHECK(c < num_classes, "one_hot: class value ", c, " is out of range for num_classes ",
                num_classes);
  }
  Shape s = indices.shape();
  s.push_back(num_classes);
  Tensor idx = indices.to(kInt64).unsqueeze(-1);
  return scatter_add(zeros(s, {kInt64, indices.device()}), -1, idx,
                     ones(idx.shape(), {kInt64, indices.device()}));
}

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  NABLA_CHECK(weight.dim() == 2, "embedding: weight must be 2-d [num_embeddings, embedding_dim], got shape ",
              weight.shape());
  Shape s = indices.shape();
  s.push_back(weight.shape()[1]);
  try {
    return index_select(weight, 0, indices.reshape({-1})).reshape(s);
  } catch (const Error& e) {
    detail::throw_error("embedding: ", e.what());
  }
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, const Scalar& value) {
  NABLA_CHECK(mask.dtype() == kBool, "masked_fill: mask must be bool, got ", mask.dtype());
  return where(mask, full({}, value, {a.dtype(), a.device()}), a);
}

Tensor& Tensor::masked_fill_(const Tensor& mask, const Scalar& value) {
  NABLA_CHECK(mask.dtype() == kBool, "masked_fill_: mask must be bool, got ", mask.dtype());
  Tensor v = full({}, value, {dtype(), device()});
  return ops::dispatch_inplace(OpId::where, *this, {mask, v, *this});
}

Tensor tril(const Tensor& a, int64_t diagonal) { return tri(a, diagonal, true, "tril"); }
Tensor triu(const Tensor& a, int64_t diagonal) { return tri(a, diagonal, false, "triu"); }

}  // namespace nabla
