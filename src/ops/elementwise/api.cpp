// Public elementwise API: free functions, operators and Tensor methods. Each computes the result
// dtype (promote.cpp), casts the inputs only when they differ from it, and dispatches.
#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "ops/elementwise/elementwise.h"

namespace nabla {
using detail::result_type2;
using detail::result_type_scalar;
using detail::scalar_as;
using ops::Attrs;
using ops::dispatch1;
using ops::OpId;

namespace {

const Attrs kNoAttrs{};

Tensor cast(const Tensor& t, DType d) { return t.dtype() == d ? t : t.to(d); }

Tensor binary(OpId id, const Tensor& a, const Tensor& b, DType t, const Attrs& at = kNoAttrs) {
  if (a.dtype() == t && b.dtype() == t) return dispatch1(id, {a, b}, at);
  return dispatch1(id, {cast(a, t), cast(b, t)}, at);
}
Tensor binary(OpId id, const Tensor& a, const Tensor& b) { return binary(id, a, b, result_type2(a, b)); }
Tensor binary_scalar(OpId id, const Tensor& a, const Scalar& s) {
  DType t = result_type_scalar(a, s);
  return dispatch1(id, {cast(a, t), scalar_as(s, t, a.device())}, kNoAttrs);
}
Tensor scalar_binary(OpId id, const Scalar& s, const Tensor& b) {
  DType t = result_type_scalar(b, s);
  return dispatch1(id, {scalar_as(s, t, b.device()), cast(b, t)}, kNoAttrs);
}

// add/sub alpha: only stored when it is not 1 (the common case stays a plain a + b).
Attrs alpha_attrs(const Scalar& alpha, DType t, const char* op) {
  Attrs at;
  NABLA_CHECK(!(is_integral(t, true) && alpha.is_floating()), op,
              ": for integral input tensors, argument alpha must not be a floating point number (got ",
              alpha.to_double(), ")");
  if (alpha.to_double() == 1.0) return at;
  at.i[0] = 1;
  at.f[0] = alpha.to_double();
  at.i[1] = alpha.to_int();
  return at;
}
void check_no_bool_sub(DType a, DType b) {
  NABLA_CHECK(a != kBool && b != kBool,
              "sub: subtraction with a bool tensor is not supported; to invert a mask use logical_not()");
}

/// In-place binary op: self op= other. An `other` that overlaps self in a different layout is
/// copied first, so the kernel never reads an element it already overwrote.
Tensor& inplace_binary(OpId id, Tensor& self, const Tensor& other, DType t, const Attrs& at = kNoAttrs) {
  Tensor o = cast(other, t);
  if (o.shares_storage_with(self) && (o.storage_offset() != self.storage_offset() ||
                                      o.strides() != self.strides() || o.shape() != self.shape()))
    o = o.clone();
  return ops::dispatch_inplace(id, self, {cast(self, t), o}, at);
}

/// Integral inputs of float math ops (exp, log, ...) compute in the default float dtype.
Tensor float_input(const Tensor& a) { return is_floating(a.dtype()) ? a : a.to(default_dtype()); }
Tensor unary(OpId id, const Tensor& a, const Attrs& at = kNoAttrs) { return dispatch1(id, {a}, at); }

Attrs clamp_attrs(const std::optional<Scalar>& lo, const std::optional<Scalar>& hi) {
  NABLA_CHECK(lo || hi, "clamp: at least one of 'min' or 'max' must be given");
  Attrs at;
  if (lo) {
    at.i[0] = 1;
    at.f[0] = lo->to_double();
    at.i[2] = lo->to_int();
  }
  if (hi) {
    at.i[1] = 1;
    at.f[1] = hi->to_double();
    at.i[3] = hi->to_int();
  }
  return at;
}
DType clamp_type(const Tensor& a, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi) {
  DType t = a.dtype();
  if (lo) t = result_type_scalar(a, *lo);
  if (hi) t = promote_types(t, result_type_scalar(a, *hi));
  return t;
}

}  // namespace

// ---- arithmetic ----
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  DType t = result_type2(a, b);
  return binary(OpId::add, a, b, t, alpha_attrs(alpha, t, "add"));
}
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  check_no_bool_sub(a.dtype(), b.dtype());
  DType t = result_type2(a, b);
  return binary(OpId::sub, a, b, t, alpha_attrs(alpha, t, "sub"));
}
Tensor mul(const Tensor& a, const Tensor& b) { return binary(OpId::mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) {
  DType t = result_type2(a, b);
  return binary(OpId::div, a, b, is_floating(t) ? t : default_dtype());
}
Tensor neg(const Tensor& a) {
  NABLA_CHECK(a.dtype() != kBool,
              "neg: negation of a bool tensor is not supported; to invert a mask use logical_not()");
  return unary(OpId::neg, a);
}
Tensor pow(const Tensor& a, const Tensor& exponent) { return binary(OpId::pow, a, exponent); }
Tensor pow(const Tensor& a, const Scalar& exponent) {
  DType t = result_type_scalar(a, exponent);
  NABLA_CHECK(!is_integral(t) || exponent.to_int() >= 0,
              "pow: integers to negative integer powers are not allowed");
  Attrs at;
  at.f[0] = exponent.to_double();
  return unary(OpId::pow_scalar, cast(a, t), at);
}
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(OpId::maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(OpId::minimum, a, b); }
Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  Attrs at = clamp_attrs(min, max);
  return unary(OpId::clamp, cast(a, clamp_type(a, min, max)), at);
}

// ---- math and activations ----
Tensor exp(const Tensor& a) { return unary(OpId::exp, float_input(a)); }
Tensor log(const Tensor& a) { return unary(OpId::log, float_input(a)); }
Tensor sqrt(const Tensor& a) { return unary(OpId::sqrt, float_input(a)); }
Tensor rsqrt(const Tensor& a) { return unary(OpId::rsqrt, float_input(a)); }
Tensor sigmoid(const Tensor& a) { return unary(OpId::sigmoid, float_input(a)); }
Tensor tanh(const Tensor& a) { return unary(OpId::tanh, float_input(a)); }
Tensor erf(const Tensor& a) { return unary(OpId::erf, float_input(a)); }
Tensor abs(const Tensor& a) { return unary(OpId::abs, a); }
Tensor sign(const Tensor& a) { return unary(OpId::sign, a); }
Tensor relu(const Tensor& a) { return unary(OpId::relu, a); }
Tensor leaky_relu(const Tensor& a, double negative_slope) {
  Attrs at;
  at.f[0] = negative_slope;
  return unary(OpId::leaky_relu, a, at);
}
Tensor elu(const Tensor& a, double alpha) {
  Attrs at;
  at.f[0] = alpha;
  return unary(OpId::elu, a, at);
}
Tensor gelu(const Tensor& a, const char* approximate) {
  std::string_view s = approximate ? approximate : "none";
  NABLA_CHECK(s == "none" || s == "tanh", "gelu: approximate must be \"none\" or \"tanh\", got \"", s, "\"");
  Attrs at;
  at.i[0] = s == "tanh";
  return unary(OpId::gelu, a, at);
}
Tensor softplus(const Tensor& a, double beta, double threshold) {
  Attrs at;
  at.f[0] = beta;
  at.f[1] = threshold;
  return unary(OpId::softplus, a, at);
}
Tensor silu(const Tensor& a) { return a * sigmoid(a); }

// ---- comparisons and selection ----
Tensor eq(const Tensor& a, const Tensor& b) { return binary(OpId::eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary(OpId::ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary(OpId::lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary(OpId::le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary(OpId::gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary(OpId::ge, a, b); }
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  DType t = result_type2(a, b);
  return dispatch1(OpId::where, {cond, cast(a, t), cast(b, t)}, kNoAttrs);
}
Tensor logical_not(const Tensor& a) { return unary(OpId::logical_not, a); }

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return false;
  NoGradGuard no_grad;
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == y[i]) continue;                                                  // also equal infinities
    if (!(std::abs(x[i] - y[i]) <= atol + rtol * std::abs(y[i]))) return false;  // NaN fails
  }
  return true;
}
bool equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  NoGradGuard no_grad;
  Tensor e = eq(a, b).contiguous();
  const bool* p = e.data_ptr<bool>();
  for (int64_t i = 0; i < e.numel(); ++i)
    if (!p[i]) return false;
  return true;
}

// ---- operators ----
Tensor operator+(const Tensor& a, const Tensor& b) { return binary(OpId::add, a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) {
  check_no_bool_sub(a.dtype(), b.dtype());
  return binary(OpId::sub, a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) { return binary(OpId::mul, a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, const Scalar& b) { return binary_scalar(OpId::add, a, b); }
Tensor operator-(const Tensor& a, const Scalar& b) {
  check_no_bool_sub(a.dtype(), b.dtype());
  return binary_scalar(OpId::sub, a, b);
}
Tensor operator*(const Tensor& a, const Scalar& b) { return binary_scalar(OpId::mul, a, b); }
Tensor operator/(const Tensor& a, const Scalar& b) {
  DType t = result_type_scalar(a, b);
  if (!is_floating(t)) t = default_dtype();
  return dispatch1(OpId::div, {cast(a, t), scalar_as(b, t, a.device())}, kNoAttrs);
}
Tensor operator+(const Scalar& a, const Tensor& b) { return scalar_binary(OpId::add, a, b); }
Tensor operator-(const Scalar& a, const Tensor& b) {
  check_no_bool_sub(a.dtype(), b.dtype());
  return scalar_binary(OpId::sub, a, b);
}
Tensor operator*(const Scalar& a, const Tensor& b) { return scalar_binary(OpId::mul, a, b); }
Tensor operator/(const Scalar& a, const Tensor& b) {
  DType t = result_type_scalar(b, a);
  if (!is_floating(t)) t = default_dtype();
  return dispatch1(OpId::div, {scalar_as(a, t, b.device()), cast(b, t)}, kNoAttrs);
}
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, const Scalar& b) { return binary_scalar(OpId::eq, a, b); }
Tensor operator<(const Tensor& a, const Scalar& b) { return binary_scalar(OpId::lt, a, b); }
Tensor operator>(const Tensor& a, const Scalar& b) { return binary_scalar(OpId::gt, a, b); }

// ---- Tensor methods ----
Tensor Tensor::neg() const { return nabla::neg(*this); }
Tensor Tensor::exp() const { return nabla::exp(*this); }
Tensor Tensor::log() const { return nabla::log(*this); }
Tensor Tensor::sqrt() const { return nabla::sqrt(*this); }
Tensor Tensor::rsqrt() const { return nabla::rsqrt(*this); }
Tensor Tensor::abs() const { return nabla::abs(*this); }
Tensor Tensor::sign() const { return nabla::sign(*this); }
Tensor Tensor::relu() const { return nabla::relu(*this); }
Tensor Tensor::sigmoid() const { return nabla::sigmoid(*this); }
Tensor Tensor::tanh() const { return nabla::tanh(*this); }
Tensor Tensor::pow(const Scalar& e) const { return nabla::pow(*this, e); }
Tensor Tensor::pow(const Tensor& e) const { return nabla::pow(*this, e); }
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return nabla::clamp(*this, min, max);
}

Tensor& Tensor::add_(const Tensor& other, const Scalar& alpha) {
  DType t = result_type2(*this, other);
  return inplace_binary(OpId::add, *this, other, t, alpha_attrs(alpha, t, "add_"));
}
Tensor& Tensor::add_(const Scalar& other) {
  DType t = result_type_scalar(*this, other);
  return inplace_binary(OpId::add, *this, scalar_as(other, t, device()), t);
}
Tensor& Tensor::sub_(const Tensor& other, const Scalar& alpha) {
  check_no_bool_sub(dtype(), other.dtype());
  DType t = result_type2(*this, other);
  return inplace_binary(OpId::sub, *this, other, t, alpha_attrs(alpha, t, "sub_"));
}
Tensor& Tensor::sub_(const Scalar& other) {
  check_no_bool_sub(dtype(), other.dtype());
  DType t = result_type_scalar(*this, other);
  return inplace_binary(OpId::sub, *this, scalar_as(other, t, device()), t);
}
Tensor& Tensor::mul_(const Tensor& other) {
  return inplace_binary(OpId::mul, *this, other, result_type2(*this, other));
}
Tensor& Tensor::mul_(const Scalar& other) {
  DType t = result_type_scalar(*this, other);
  return inplace_binary(OpId::mul, *this, scalar_as(other, t, device()), t);
}
Tensor& Tensor::div_(const Tensor& other) {
  DType t = result_type2(*this, other);
  return inplace_binary(OpId::div, *this, other, is_floating(t) ? t : default_dtype());
}
Tensor& Tensor::div_(const Scalar& other) {
  DType t = result_type_scalar(*this, other);
  if (!is_floating(t)) t = default_dtype();
  return inplace_binary(OpId::div, *this, scalar_as(other, t, device()), t);
}
Tensor& Tensor::zero_() { return fill_(0); }
Tensor& Tensor::fill_(const Scalar& value) {
  Attrs at;
  at.f[0] = value.to_double();
  if (!value.is_floating()) {
    at.i[0] = 1;
    at.i[1] = value.to_int();
  }
  return ops::dispatch_inplace(OpId::fill, *this, {*this}, at);
}
Tensor& Tensor::relu_() { return ops::dispatch_inplace(OpId::relu, *this, {*this}); }
Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) {
  Attrs at = clamp_attrs(min, max);
  return ops::dispatch_inplace(OpId::clamp, *this, {cast(*this, clamp_type(*this, min, max))}, at);
}

}  // namespace nabla
