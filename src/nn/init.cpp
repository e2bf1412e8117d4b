// nn::init: values are drawn in float64 from the generator and copied into the tensor, so the
// same seed gives the same numbers whatever the tensor's dtype layout or the thread count.
#include "nabla/nn/init.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla::nn::init {
namespace {

void check_defined(const char* fn, const Tensor& t) {
  NABLA_CHECK(t.defined(), "init.", fn, ": the tensor is undefined");
  NABLA_CHECK(t.is_floating_point(), "init.", fn, ": expected a floating-point tensor, got ", t.dtype());
}

Tensor fill_from(Tensor t, const Tensor& values) {
  NoGradGuard guard;
  t.copy_(values);
  return t;
}

int64_t fan(const char* fn, const Tensor& t, const char* mode) {
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  if (std::strcmp(mode, "fan_in") == 0) return in;
  if (std::strcmp(mode, "fan_out") == 0) return out;
  detail::throw_error("init.", fn, ": mode must be \"fan_in\" or \"fan_out\", got \"", mode, "\"");
}

}  // namespace

double calculate_gain(const char* nl, double param) {
  std::string n = nl;
  if (n == "linear" || n == "conv1d" || n == "conv2d" || n == "conv3d" || n == "conv_transpose1d" ||
      n == "conv_transpose2d" || n == "conv_transpose3d" || n == "sigmoid")
    return 1.0;
  if (n == "tanh") return 5.0 / 3.0;
  if (n == "relu") return std::sqrt(2.0);
  if (n == "leaky_relu") {
    double slope = param < 0 ? 0.01 : param;
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (n == "selu") return 3.0 / 4.0;
  detail::throw_error("init.calculate_gain: unsupported nonlinearity \"", nl, "\"");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  NABLA_CHECK(t.dim() >= 2,
              "init: fan in and fan out can not be computed for a tensor with fewer than 2 dims, got shape ",
              t.shape());
  int64_t receptive = 1;
  for (int d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor uniform_(Tensor t, double low, double high, Generator* gen) {
  check_defined("uniform_", t);
  NABLA_CHECK(low <= high, "init.uniform_: low (", low, ") must not exceed high (", high, ")");
  NoGradGuard guard;
  return fill_from(t, rand(t.shape(), kFloat64, gen) * (high - low) + low);
}

Tensor normal_(Tensor t, double mean, double std, Generator* gen) {
  check_defined("normal_", t);
  NABLA_CHECK(std >= 0, "init.normal_: std must be non-negative, got ", std);
  NoGradGuard guard;
  return fill_from(t, randn(t.shape(), kFloat64, gen) * std + mean);
}

Tensor constant_(Tensor t, double value) {
  check_defined("constant_", t);
  NoGradGuard guard;
  t.fill_(value);
  return t;
}
Tensor zeros_(Tensor t) { return constant_(t, 0.0); }
Tensor ones_(Tensor t) { return constant_(t, 1.0); }

Tensor eye_(Tensor t) {
  check_defined("eye_", t);
  NABLA_CHECK(t.dim() == 2, "init.eye_: expected a 2-d tensor, got shape ", t.shape());
  return fill_from(t, eye(t.size(0), t.size(1), kFloat64));
}

Tensor xavier_uniform_(Tensor t, double gain, Generator* gen) {
  check_defined("xavier_uniform_", t);
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  double b = gain * std::sqrt(6.0 / double(in + out));
  return uniform_(t, -b, b, gen);
}

Tensor xavier_normal_(Tensor t, double gain, Generator* gen) {
  check_defined("xavier_normal_", t);
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  return normal_(t, 0.0, gain * std::sqrt(2.0 / double(in + out)), gen);
}

Tensor kaiming_uniform_(Tensor t, double a, const char* mode, const char* nonlinearity, Generator* gen) {
  check_defined("kaiming_uniform_", t);
  int64_t f = fan("kaiming_uniform_", t, mode);
  NABLA_CHECK(f > 0, "init.kaiming_uniform_: cannot initialise a tensor with zero elements in fan, shape ",
              t.shape());
  double b = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / double(f));
  return uniform_(t, -b, b, gen);
}

Tensor kaiming_normal_(Tensor t, double a, const char* mode, const char* nonlinearity, Generator* gen) {
  check_defined("kaiming_normal_", t);
  int64_t f = fan("kaiming_normal_", t, mode);
  NABLA_CHECK(f > 0, "init.kaiming_normal_: cannot initialise a tensor with zero elements in fan, shape ",
              t.shape());
  return normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(double(f)), gen);
}

Tensor orthogonal_(Tensor t, double gain, Generator* gen) {
  check_defined("orthogonal_", t);
  NABLA_CHECK(t.dim() >= 2, "init.orthogonal_: expected at least 2 dims, got shape ", t.shape());
  if (t.numel() == 0) return t;
  int64_t rows = t.size(0), cols = t.numel() / rows;
  NoGradGuard guard;
  std::vector<double> flat = randn({rows, cols}, kFloat64, gen).to_vector<double>();
  // Work on the tall orientation m x n (m >= n) of the sample, column-major in `a`.
  bool tall = rows >= cols;
  int64_t m = tall ? rows : cols, n = tall ? cols : rows;
  std::vector<double> a(m * n);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) (tall ? a[c * m + r] : a[r * m + c]) = flat[r * cols + c];
  // Modified Gram-Schmidt with re-orthogonalisation: Q's columns, with the sign of R's diagonal
  // folded in (as torch does with q *= sign(diag(r))) so the result is uniquely defined.
  for (int64_t j = 0; j < n; ++j) {
    double* qj = &a[j * m];
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t k = 0; k < j; ++k) {
        const double* qk = &a[k * m];
        double dot = 0;
        for (int64_t i = 0; i < m; ++i) dot += qk[i] * qj[i];
        for (int64_t i = 0; i < m; ++i) qj[i] -= dot * qk[i];
      }
    double norm = 0;
    for (int64_t i = 0; i < m; ++i) norm += qj[i] * qj[i];
    norm = std::sqrt(norm);
    NABLA_CHECK(norm > 0, "init.orthogonal_: the random sample was rank-deficient");
    for (int64_t i = 0; i < m; ++i) qj[i] /= norm;
  }
  std::vector<double> q(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) q[r * cols + c] = gain * (tall ? a[c * m + r] : a[r * m + c]);
  return fill_from(t, tensor(q, Shape{rows, cols}, kFloat64).view(t.shape()));
}

}  // namespace nabla::nn::init
