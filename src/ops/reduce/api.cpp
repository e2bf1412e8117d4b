// Public reduction API: the primitives (sum, prod, amax, amin, max/min along a dim, argmax,
// softmax, log_softmax) and the composites over them (mean, var, std, logsumexp, sum_to), plus
// the Tensor methods. Losses are in losses.cpp.
#include <cmath>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"
#include "ops/registry.h"

namespace nabla {
using ops::Attrs;
using ops::dispatch1;
using ops::OpId;

namespace {

/// Normalised reduction dims: wrapped, checked for repeats, sorted; empty means all dims.
/// A 0-dim tensor accepts dim 0 / -1 and reduces nothing.
Shape reduce_dims(const Tensor& a, const Shape& dims, const char* op) {
  Shape r;
  if (a.dim() == 0) {
    for (int64_t d : dims) wrap_dim(d, 0, op);
    return r;
  }
  bool seen[kMaxDims] = {};
  if (dims.empty())
    for (int d = 0; d < a.dim(); ++d) seen[d] = true;
  for (int64_t d : dims) {
    int w = wrap_dim(d, a.dim(), op);
    NABLA_CHECK(!seen[w], op, ": dim ", w, " appears multiple times in the list of dims ", dims);
    seen[w] = true;
  }
  for (int d = 0; d < a.dim(); ++d)
    if (seen[d]) r.push_back(d);
  return r;
}

Tensor reduce(OpId id, const Tensor& a, const Shape& dims, bool keepdim, const char* op) {
  Attrs at;
  at.shape = reduce_dims(a, dims, op);
  at.i[0] = keepdim;
  return dispatch1(id, {a}, at);
}

/// Number of elements reduced over (normalised dims).
int64_t reduced_count(const Tensor& a, const Shape& nd) {
  int64_t n = 1;
  for (int64_t d : nd) n *= a.shape()[static_cast<int>(d)];
  return n;
}

/// Runs a single-dim op (i1 = dim, i0 = keepdim); a 0-dim input is treated as shape [1].
void dim_op(OpId id, const Tensor& a, int64_t dim, bool keepdim, const char* op, Tensor* out) {
  Attrs at;
  at.i[0] = keepdim;
  if (a.dim() == 0) {
    wrap_dim(dim, 0, op);
    at.i[0] = 0;
    Tensor flat = a.reshape({1});
    ops::dispatch(id, &flat, 1, at, out);
    return;
  }
  at.i[1] = wrap_dim(dim, a.dim(), op);
  ops::dispatch(id, &a, 1, at, out);
}

Tensor softmax_op(OpId id, const Tensor& a, int64_t dim, const char* op) {
  Tensor x = is_floating(a.dtype()) ? a : a.to(default_dtype());
  if (x.dim() == 0) {
    wrap_dim(dim, 0, op);
    return dispatch1(id, {x.reshape({1})}, {}).reshape({});
  }
  Attrs at;
  at.i[1] = wrap_dim(dim, x.dim(), op);
  return dispatch1(id, {x}, at);
}

}  // namespace

Tensor sum(const Tensor& a, const Shape& dims, bool keepdim) {
  return reduce(OpId::sum, a, dims, keepdim, "sum");
}
Tensor prod(const Tensor& a, const Shape& dims, bool keepdim) {
  return reduce(OpId::prod, a, dims, keepdim, "prod");
}
Tensor amax(const Tensor& a, const Shape& dims, bool keepdim) {
  return reduce(OpId::amax, a, dims, keepdim, "amax");
}
Tensor amin(const Tensor& a, const Shape& dims, bool keepdim) {
  return reduce(OpId::amin, a, dims, keepdim, "amin");
}

Tensor mean(const Tensor& a, const Shape& dims, bool keepdim) {
  NABLA_CHECK(is_floating(a.dtype()), "mean: expected a floating point input, got ", a.dtype(),
              " (convert it first, e.g. x.to(nabla::kFloat32).mean())");
  int64_t n = reduced_count(a, reduce_dims(a, dims, "mean"));
  // 1/0 = inf makes the mean of an empty reduction 0 * inf = NaN, as in PyTorch.
  return sum(a, dims, keepdim) * Scalar(n ? 1.0 / static_cast<double>(n) : INFINITY);
}

Tensor var(const Tensor& a, const Shape& dims, int64_t correction, bool keepdim) {
  NABLA_CHECK(is_floating(a.dtype()), "var: expected a floating point input, got ", a.dtype());
  int64_t n = reduced_count(a, reduce_dims(a, dims, "var"));
  Tensor d = a - mean(a, dims, true);
  int64_t dof = std::max<int64_t>(0, n - correction);
  return sum(d * d, dims, keepdim) * Scalar(dof ? 1.0 / static_cast<double>(dof) : INFINITY);
}

Tensor std(const Tensor& a, const Shape& dims, int64_t correction, bool keepdim) {
  return sqrt(var(a, dims, correction, keepdim));
}

Tensor logsumexp(const Tensor& a, const Shape& dims, bool keepdim) {
  Tensor x = is_floating(a.dtype()) ? a : a.to(default_dtype());
  if (x.numel() == 0) return log(sum(exp(x), dims, keepdim));
  // Shift by the (constant) maximum; an infinite maximum is replaced by 0 so inf - inf never occurs.
  Tensor m = amax(x, dims, true).detach();
  m = where(abs(m) == Scalar(INFINITY), scalar_tensor(0), m);
  Tensor s = log(sum(exp(x - m), dims, keepdim));
  return s + m.reshape(s.shape());
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  int lead = a.dim() - shape.size();
  NABLA_CHECK(lead >= 0, "sum_to: cannot sum a tensor of shape ", a.shape(), " to the larger shape ", shape);
  Shape dims;
  for (int d = 0; d < a.dim(); ++d) {
    int j = d - lead;
    if (j < 0) {
      dims.push_back(d);
    } else if (shape[j] == 1 && a.shape()[d] != 1) {
      dims.push_back(d);
    } else {
      NABLA_CHECK(shape[j] == a.shape()[d], "sum_to: shape ", a.shape(), " cannot be summed to ", shape);
    }
  }
  Tensor r = dims.empty() ? a : sum(a, dims, true);
  return r.reshape(shape);
}

ValuesIndices max(const Tensor& a, int64_t dim, bool keepdim) {
  Tensor out[2];
  dim_op(OpId::max_dim, a, dim, keepdim, "max", out);
  return {out[0], out[1]};
}
ValuesIndices min(const Tensor& a, int64_t dim, bool keepdim) {
  Tensor out[2];
  dim_op(OpId::min_dim, a, dim, keepdim, "min", out);
  return {out[0], out[1]};
}
Tensor max(const Tensor& a) {
  NABLA_CHECK(a.numel() > 0, "max: expected a non-empty tensor (the maximum of no elements is undefined)");
  return amax(a);
}
Tensor min(const Tensor& a) {
  NABLA_CHECK(a.numel() > 0, "min: expected a non-empty tensor (the minimum of no elements is undefined)");
  return amin(a);
}
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  Tensor out;
  dim_op(OpId::argmax, a, dim, keepdim, "argmax", &out);
  return out;
}
Tensor argmin(const Tensor& a, int64_t dim, bool keepdim) {
  Tensor out;
  dim_op(OpId::argmin, a, dim, keepdim, "argmin", &out);
  return out;
}

Tensor softmax(const Tensor& a, int64_t dim) { return softmax_op(OpId::softmax, a, dim, "softmax"); }
Tensor log_softmax(const Tensor& a, int64_t dim) {
  return softmax_op(OpId::log_softmax, a, dim, "log_softmax");
}

// ---- Tensor methods ----
Tensor Tensor::sum() const { return nabla::sum(*this); }
Tensor Tensor::sum(const Shape& dims, bool keepdim) const { return nabla::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return nabla::mean(*this); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const { return nabla::mean(*this, dims, keepdim); }
Tensor Tensor::max() const { return nabla::max(*this); }
Tensor Tensor::min() const { return nabla::min(*this); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const { return nabla::argmax(*this, dim, keepdim); }
Tensor Tensor::argmin(int64_t dim, bool keepdim) const { return nabla::argmin(*this, dim, keepdim); }
Tensor Tensor::softmax(int64_t dim) const { return nabla::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return nabla::log_softmax(*this, dim); }

}  // namespace nabla
