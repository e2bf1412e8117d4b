// op_db entries of the elementwise family (fixtures: tests/fixtures/cases_elementwise.py).
#include "support/op_db.h"

namespace nabla::testing {

namespace {
using Fn = Tensor (*)(const Tensor&);
void unary_case(const char* name, Fn f, CaseOptions opt = {}) {
  add_case({name, [f](const Inputs& x) -> Outputs { return {f(x[0])}; }, opt});
}
// Finite differences are meaningless at ties; the fixture still checks PyTorch's tie rule.
constexpr CaseOptions kTies{.gradcheck = false};
// SLEEF's float32 exp/log/tanh/erf are within 1 ulp, like glibc's, but not always the same ulp.
constexpr CaseOptions kMath{.rtol = 1e-5, .atol = 1e-6, .grad_rtol = 1e-4, .grad_atol = 1e-5};
}  // namespace

NABLA_OP_CASES(elementwise) {
  // add / sub / mul / div
  add_case({"add_same_shape", [](const Inputs& x) -> Outputs { return {x[0] + x[1]}; }, {}});
  add_case({"add_broadcast", [](const Inputs& x) -> Outputs { return {add(x[0], x[1])}; }, {}});
  add_case({"add_alpha", [](const Inputs& x) -> Outputs { return {add(x[0], x[1], 2.5)}; }, {}});
  add_case({"add_scalar", [](const Inputs& x) -> Outputs { return {x[0] + 1.5}; }, {}});
  add_case({"add_0dim", [](const Inputs& x) -> Outputs { return {x[0] + x[1]}; }, {}});
  add_case({"add_0dim_both", [](const Inputs& x) -> Outputs { return {x[0] + x[1]}; }, {}});
  add_case({"add_zero_size", [](const Inputs& x) -> Outputs { return {x[0] + x[1]}; }, {}});
  add_case({"add_int64", [](const Inputs& x) -> Outputs { return {x[0] + x[1]}; }, {}});
  add_case({"add_int_float", [](const Inputs& x) -> Outputs { return {x[0] + x[1]}; }, {}});
  add_case({"add_float64", [](const Inputs& x) -> Outputs { return {x[0] + x[1]}; }, {}});
  add_case({"sub_broadcast", [](const Inputs& x) -> Outputs { return {x[0] - x[1]}; }, {}});
  add_case({"sub_alpha", [](const Inputs& x) -> Outputs { return {sub(x[0], x[1], -0.5)}; }, {}});
  add_case({"rsub_scalar", [](const Inputs& x) -> Outputs { return {2 - x[0]}; }, {}});
  add_case({"mul_broadcast", [](const Inputs& x) -> Outputs { return {mul(x[0], x[1])}; }, {}});
  add_case({"mul_scalar", [](const Inputs& x) -> Outputs { return {x[0] * -3.0}; }, {}});
  add_case({"mul_0dim", [](const Inputs& x) -> Outputs { return {x[0] * x[1]}; }, {}});
  add_case({"mul_bool", [](const Inputs& x) -> Outputs { return {x[0] * x[1]}; }, {}});
  add_case({"div_broadcast", [](const Inputs& x) -> Outputs { return {div(x[0], x[1])}; }, {}});
  add_case({"div_int_true", [](const Inputs& x) -> Outputs { return {x[0] / x[1]}; }, {}});
  add_case({"rdiv_scalar", [](const Inputs& x) -> Outputs { return {1.0 / x[0]}; }, {}});
  add_case({"div_scalar", [](const Inputs& x) -> Outputs { return {x[0] / 4}; }, {}});
  add_case({"neg", [](const Inputs& x) -> Outputs { return {-x[0]}; }, {}});
  // pow
  add_case({"pow_tensor", [](const Inputs& x) -> Outputs { return {pow(x[0], x[1])}; }, kMath});
  add_case({"pow_broadcast", [](const Inputs& x) -> Outputs { return {x[0].pow(x[1])}; }, kMath});
  add_case({"pow_zero_base", [](const Inputs& x) -> Outputs { return {pow(x[0], x[1])}; }, kMath});
  add_case({"pow_scalar_2", [](const Inputs& x) -> Outputs { return {x[0].pow(2)}; }, {}});
  add_case({"pow_scalar_3", [](const Inputs& x) -> Outputs { return {x[0].pow(3)}; }, {}});
  add_case({"pow_scalar_half", [](const Inputs& x) -> Outputs { return {x[0].pow(0.5)}; }, {}});
  add_case({"pow_scalar_neg1", [](const Inputs& x) -> Outputs { return {x[0].pow(-1)}; }, {}});
  add_case({"pow_scalar_2_5", [](const Inputs& x) -> Outputs { return {pow(x[0], 2.5)}; }, kMath});
  add_case({"pow_scalar_0", [](const Inputs& x) -> Outputs { return {x[0].pow(0)}; }, {}});
  add_case({"pow_int", [](const Inputs& x) -> Outputs { return {x[0].pow(3)}; }, {}});
  add_case({"pow_int_tensor", [](const Inputs& x) -> Outputs { return {pow(x[0], x[1])}; }, {}});
  // maximum / minimum
  add_case({"maximum_broadcast", [](const Inputs& x) -> Outputs { return {maximum(x[0], x[1])}; }, {}});
  add_case({"minimum_broadcast", [](const Inputs& x) -> Outputs { return {minimum(x[0], x[1])}; }, {}});
  add_case({"maximum_ties", [](const Inputs& x) -> Outputs { return {maximum(x[0], x[1])}; }, kTies});
  add_case({"minimum_ties", [](const Inputs& x) -> Outputs { return {minimum(x[0], x[1])}; }, kTies});
  add_case({"maximum_int", [](const Inputs& x) -> Outputs { return {maximum(x[0], x[1])}; }, {}});
  // clamp
  add_case({"clamp_both", [](const Inputs& x) -> Outputs { return {clamp(x[0], -0.5, 0.7)}; }, {}});
  add_case({"clamp_min", [](const Inputs& x) -> Outputs { return {x[0].clamp(0.1, std::nullopt)}; }, {}});
  add_case({"clamp_max", [](const Inputs& x) -> Outputs { return {clamp(x[0], std::nullopt, -0.2)}; }, {}});
  add_case({"clamp_int", [](const Inputs& x) -> Outputs { return {clamp(x[0], -5, 5)}; }, {}});
  add_case({"clamp_int_float_bound",
            [](const Inputs& x) -> Outputs { return {clamp(x[0], 0.5, std::nullopt)}; },
            {}});
  // math
  unary_case(
      "exp", [](const Tensor& a) { return exp(a); }, kMath);
  unary_case(
      "exp_int", [](const Tensor& a) { return exp(a); }, kMath);
  unary_case("exp_zero_size", [](const Tensor& a) { return a.exp(); });
  unary_case(
      "log", [](const Tensor& a) { return log(a); }, kMath);
  unary_case("sqrt", [](const Tensor& a) { return sqrt(a); });
  unary_case("rsqrt", [](const Tensor& a) { return a.rsqrt(); });
  unary_case("abs", [](const Tensor& a) { return abs(a); });
  unary_case("abs_int", [](const Tensor& a) { return a.abs(); });
  unary_case("sign", [](const Tensor& a) { return sign(a); });
  unary_case(
      "erf", [](const Tensor& a) { return erf(a); }, kMath);
  // activations
  unary_case("relu", [](const Tensor& a) { return relu(a); });
  unary_case("relu_int", [](const Tensor& a) { return a.relu(); });
  unary_case("leaky_relu", [](const Tensor& a) { return leaky_relu(a, 0.2); });
  unary_case(
      "elu", [](const Tensor& a) { return elu(a); }, kMath);
  unary_case(
      "elu_alpha", [](const Tensor& a) { return elu(a, 0.5); }, kMath);
  unary_case(
      "gelu", [](const Tensor& a) { return gelu(a); }, kMath);
  unary_case(
      "gelu_tanh", [](const Tensor& a) { return gelu(a, "tanh"); }, kMath);
  unary_case(
      "sigmoid", [](const Tensor& a) { return sigmoid(a); }, kMath);
  unary_case(
      "sigmoid_0dim", [](const Tensor& a) { return a.sigmoid(); }, kMath);
  unary_case(
      "tanh", [](const Tensor& a) { return tanh(a); }, kMath);
  unary_case(
      "softplus", [](const Tensor& a) { return softplus(a); }, kMath);
  unary_case(
      "softplus_beta_threshold", [](const Tensor& a) { return softplus(a, 2.0, 1.0); }, kMath);
  unary_case(
      "silu", [](const Tensor& a) { return silu(a); }, kMath);
  unary_case("exp_float64", [](const Tensor& a) { return exp(a); });
  unary_case("tanh_float64", [](const Tensor& a) { return tanh(a); });
  // comparisons, where, logical_not
  add_case({"eq_broadcast", [](const Inputs& x) -> Outputs { return {x[0] == x[1]}; }, {}});
  add_case({"ne_broadcast", [](const Inputs& x) -> Outputs { return {ne(x[0], x[1])}; }, {}});
  add_case({"lt_broadcast", [](const Inputs& x) -> Outputs { return {x[0] < x[1]}; }, {}});
  add_case({"le_broadcast", [](const Inputs& x) -> Outputs { return {le(x[0], x[1])}; }, {}});
  add_case({"gt_broadcast", [](const Inputs& x) -> Outputs { return {x[0] > x[1]}; }, {}});
  add_case({"ge_broadcast", [](const Inputs& x) -> Outputs { return {x[0] >= x[1]}; }, {}});
  add_case({"lt_int_float", [](const Inputs& x) -> Outputs { return {lt(x[0], x[1])}; }, {}});
  add_case({"gt_scalar", [](const Inputs& x) -> Outputs { return {x[0] > 0.25}; }, {}});
  add_case({"where_broadcast", [](const Inputs& x) -> Outputs { return {where(x[0], x[1], x[2])}; }, {}});
  add_case({"where_same_shape", [](const Inputs& x) -> Outputs { return {where(x[0], x[1], x[2])}; }, {}});
  add_case({"where_scalar",
            [](const Inputs& x) -> Outputs { return {where(x[0], x[1], scalar_tensor(0.0))}; },
            {}});
  unary_case("logical_not_float", [](const Tensor& a) { return logical_not(a); });
  unary_case("logical_not_bool", [](const Tensor& a) { return logical_not(a); });
}

}  // namespace nabla::testing
