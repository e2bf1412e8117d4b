// Elementwise family: type promotion (checked against torch 1.13), in-place rules, strided
// outputs, error messages, NaN handling, 16-bit dtypes, second derivatives, allocation counts of
// the small-tensor fast path, and thread-count / layout independence of the results.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "nabla/nabla.h"

namespace nabla {
namespace {

template <typename F>
void expect_error(F&& fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

Tensor grid(int64_t r, int64_t c, DType t = kFloat32) { return arange(0, r * c, 1).reshape({r, c}).to(t); }
Tensor t1(DType t) { return ones({2}, t); }
Tensor t0(DType t) { return ones({}, t); }

bool bit_equal(const Tensor& a, const Tensor& b) {
  Tensor x = a.contiguous(), y = b.contiguous();
  return x.dtype() == y.dtype() && x.shape() == y.shape() &&
         std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

// Expected values are what torch 1.13 returns for the same expressions.
TEST(ElementwisePromotion, MatchesPyTorch) {
  EXPECT_EQ((t1(kInt64) + 2.5).dtype(), kFloat32);
  EXPECT_EQ((t1(kUInt8) + t0(kInt64)).dtype(), kUInt8);
  EXPECT_EQ((t1(kFloat32) + t1(kFloat64)).dtype(), kFloat64);
  EXPECT_EQ((t1(kFloat32) + t0(kFloat64)).dtype(), kFloat32);
  EXPECT_EQ((t1(kInt32) + t0(kInt64)).dtype(), kInt32);
  EXPECT_EQ((t1(kInt64) + t0(kFloat64)).dtype(), kFloat64);
  EXPECT_EQ((t1(kBool) + t1(kBool)).dtype(), kBool);
  EXPECT_EQ((t1(kBool) + 1).dtype(), kInt64);
  EXPECT_EQ((t1(kBool) + 1.5).dtype(), kFloat32);
  EXPECT_EQ((t1(kFloat16) + 2.0).dtype(), kFloat16);
  EXPECT_EQ((t1(kFloat16) + t1(kBFloat16)).dtype(), kFloat32);
  EXPECT_EQ((t1(kFloat16) * t0(kFloat32)).dtype(), kFloat16);
  EXPECT_EQ((t0(kInt32) + t0(kFloat16)).dtype(), kFloat16);
  EXPECT_EQ((t1(kUInt8) + t1(kInt32)).dtype(), kInt32);
  EXPECT_EQ((t1(kUInt8) + 1).dtype(), kUInt8);
  EXPECT_EQ((t1(kInt64) / t1(kInt64)).dtype(), kFloat32);
  EXPECT_EQ(result_type({t1(kInt32), scalar_tensor(int64_t{1} << 40)}), kInt32);
  EXPECT_EQ(result_type({t1(kInt64), scalar_tensor(2.5)}), kFloat32);
  EXPECT_EQ(where(t1(kBool), t1(kInt64), scalar_tensor(2.5)).dtype(), kFloat32);
  EXPECT_EQ(clamp(t1(kInt64), 0.5, std::nullopt).dtype(), kFloat32);
  EXPECT_EQ(clamp(t1(kInt64), 1, 2).dtype(), kInt64);
  EXPECT_EQ(exp(t1(kInt64)).dtype(), kFloat32);
  EXPECT_EQ(t1(kInt64).pow(2).dtype(), kInt64);
  EXPECT_EQ(t1(kInt64).pow(0.5).dtype(), kFloat32);
  EXPECT_EQ((t1(kFloat32) < t1(kInt64)).dtype(), kBool);
}

TEST(ElementwisePromotion, DefaultDtypeDrivesIntDivisionAndFloatScalars) {
  set_default_dtype(kFloat64);
  DType div_t = (t1(kInt64) / t1(kInt64)).dtype(), scalar_t = (t1(kInt64) * 0.5).dtype();
  set_default_dtype(kFloat32);
  EXPECT_EQ(div_t, kFloat64);
  EXPECT_EQ(scalar_t, kFloat64);
}

TEST(ElementwiseErrors, NonBroadcastableShapesNameOpAndShapes) {
  expect_error([] { add(zeros({2, 3}), zeros({4})); }, {"add", "[2, 3]", "[4]"});
  expect_error([] { zeros({2, 3}) * zeros({3, 2}); }, {"mul", "[2, 3]", "[3, 2]"});
  expect_error([] { where(zeros({2}, kBool), zeros({3}), zeros({2})); }, {"where", "[2]", "[3]"});
  expect_error([] { maximum(zeros({5}), zeros({2, 4})); }, {"maximum", "[5]", "[2, 4]"});
}

TEST(ElementwiseErrors, DtypeRules) {
  expect_error([] { add(t1(kInt64), t1(kInt64), 2.5); }, {"add", "alpha"});
  expect_error([] { t1(kBool) - t1(kBool); }, {"sub", "bool"});
  expect_error([] { -t1(kBool); }, {"neg", "bool"});
  expect_error([] { gelu(t1(kInt64)); }, {"gelu", "int64"});
  expect_error([] { gelu(t1(kFloat32), "fast"); }, {"gelu", "fast"});
  expect_error([] { where(t1(kFloat32), t1(kFloat32), t1(kFloat32)); }, {"where", "bool", "float32"});
  expect_error([] { t1(kInt64).pow(-1); }, {"pow", "negative"});
  expect_error([] { clamp(t1(kFloat32), std::nullopt, std::nullopt); }, {"clamp"});
  expect_error([] { t1(kInt64).add_(1.5); }, {"add_", "float32", "int64"});
  expect_error([] { t1(kInt64).div_(2); }, {"div_"});
}

TEST(ElementwiseInplace, LeafRequiringGradThrows) {
  Tensor x = ones({3}).set_requires_grad(true);
  expect_error([&] { x.add_(ones({3})); }, {"add_", "leaf"});
  expect_error([&] { x.mul_(2); }, {"mul_", "leaf"});
  NoGradGuard no_grad;
  x.mul_(2);  // fine without recording: how optimizers update parameters
  EXPECT_EQ(x.to_vector<float>(), std::vector<float>({2, 2, 2}));
}

TEST(ElementwiseInplace, NonContiguousViews) {
  Tensor x = grid(3, 4);
  x.t().add_(1);  // every element once, through a transposed view
  EXPECT_TRUE(equal(x, grid(3, 4) + 1));
  Tensor y = grid(3, 4);
  y.slice(1, 0, 4, 2).mul_(tensor({10.0f, 100.0f}).slice(0, 0, 2));  // even columns only
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({0, 1, 200, 3, 40, 5, 600, 7, 80, 9, 1000, 11}));
  Tensor z = grid(2, 3);
  z.select(1, 1).fill_(-1);
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>({0, -1, 2, 3, -1, 5}));
  Tensor w = grid(2, 2);
  w.t().clamp_(1, 2);
  EXPECT_EQ(w.to_vector<float>(), std::vector<float>({1, 1, 2, 2}));
  Tensor r = grid(2, 3) - 2;
  r.t().relu_();
  EXPECT_EQ(r.to_vector<float>(), std::vector<float>({0, 0, 0, 1, 2, 3}));
}

TEST(ElementwiseInplace, OverlappingOperandIsReadBeforeWritten) {
  Tensor a = grid(3, 3);
  Tensor expected = grid(3, 3) + grid(3, 3).t();
  a.add_(a.t());
  EXPECT_TRUE(equal(a, expected));
}

TEST(ElementwiseInplace, PromotesIntoWiderSelfAndRecordsGradient) {
  Tensor f = ones({2}, kFloat64);
  f.add_(ones({2}, kFloat32), 2);
  EXPECT_EQ(f.dtype(), kFloat64);
  EXPECT_EQ(f.to_vector<double>(), std::vector<double>({3, 3}));
  Tensor i32 = ones({2}, kInt32);
  i32.mul_(tensor<int64_t>({5, 7}));
  EXPECT_EQ(i32.to_vector<int32_t>(), std::vector<int32_t>({5, 7}));

  Tensor x = tensor({1.0f, 2.0f, 3.0f}).set_requires_grad(true);
  Tensor y = x * 2;
  y.mul_(x);  // y = 2x^2
  y.sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), std::vector<float>({4, 8, 12}));
}

TEST(ElementwiseInplace, FillIsExactForLargeIntegers) {
  Tensor t = zeros({3}, kInt64);
  int64_t big = (int64_t{1} << 60) + 1;
  t.fill_(big);
  EXPECT_EQ(t.to_vector<int64_t>(), std::vector<int64_t>({big, big, big}));
  t.zero_();
  EXPECT_EQ(t.to_vector<int64_t>(), std::vector<int64_t>({0, 0, 0}));
  Tensor b = zeros({2}, kBool);
  b.fill_(true);
  EXPECT_EQ(b.to_vector<bool>(), std::vector<bool>({true, true}));
}

TEST(ElementwiseValues, NanPropagation) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = tensor({nan, 1.0f, 5.0f});
  std::vector<float> c = clamp(x, 2, 3).to_vector<float>();
  EXPECT_TRUE(std::isnan(c[0]));
  EXPECT_EQ(c[1], 2);
  EXPECT_EQ(c[2], 3);
  std::vector<float> m = maximum(x, tensor({0.0f, nan, 0.0f})).to_vector<float>();
  EXPECT_TRUE(std::isnan(m[0]) && std::isnan(m[1]));
  EXPECT_EQ(m[2], 5);
  EXPECT_TRUE(std::isnan(relu(x).to_vector<float>()[0]));
  EXPECT_FALSE(allclose(x, x));
  EXPECT_FALSE(equal(x, x));
}

TEST(ElementwiseValues, IntegerOps) {
  Tensor a = tensor<int64_t>({-7, 3, 0, 2});
  EXPECT_EQ(pow(a, tensor<int64_t>({2, 3, 0, 10})).to_vector<int64_t>(),
            std::vector<int64_t>({49, 27, 1, 1024}));
  EXPECT_EQ(pow(tensor<int64_t>({1, -1, 2}), tensor<int64_t>({-3, -3, -1})).to_vector<int64_t>(),
            std::vector<int64_t>({1, -1, 0}));
  EXPECT_EQ(sign(a).to_vector<int64_t>(), std::vector<int64_t>({-1, 1, 0, 1}));
  EXPECT_EQ((a * 2 - 1).to_vector<int64_t>(), std::vector<int64_t>({-15, 5, -1, 3}));
  Tensor u = tensor({uint8_t{250}, uint8_t{3}});
  EXPECT_EQ((u + 10).to_vector<int64_t>(), std::vector<int64_t>({4, 13}));  // wraps like torch
  EXPECT_EQ(logical_not(a).to_vector<bool>(), std::vector<bool>({false, false, true, false}));
  EXPECT_TRUE(equal(tensor({1, 2}), tensor({1.0f, 2.0f})));
  EXPECT_TRUE(allclose(tensor({1.0f, 2.0f}), tensor({1.0f, 2.000001f})));
  EXPECT_FALSE(allclose(tensor({1.0f}), tensor({1.0f, 1.0f})));
}

TEST(ElementwiseValues, SixteenBitFloatsComputeInFloat32) {
  Tensor x = linspace(-3, 3, 41);
  for (DType t : {kFloat16, kBFloat16}) {
    Tensor xh = x.to(t);
    Tensor ref = xh.to(kFloat32);
    EXPECT_TRUE(bit_equal(exp(xh), exp(ref).to(t))) << t;
    EXPECT_TRUE(bit_equal(gelu(xh), gelu(ref).to(t))) << t;
    EXPECT_TRUE(bit_equal(xh * xh + 1, ((ref * ref).to(t).to(kFloat32) + 1).to(t))) << t;  // rounds per op
  }
}

TEST(ElementwiseAutograd, SecondDerivatives) {
  Tensor x = tensor({0.5, -1.0, 2.0}, kFloat64).set_requires_grad(true);
  Tensor y = (x.pow(3) + x.tanh() * 2).sum();
  Tensor g = autograd::grad({y}, {x}, {}, false, true)[0];
  Tensor gg = autograd::grad({g.sum()}, {x})[0];
  std::vector<double> xv = {0.5, -1.0, 2.0}, got = gg.to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) {
    double t = std::tanh(xv[i]);
    EXPECT_NEAR(got[i], 6 * xv[i] + 2 * (-2 * t * (1 - t * t)), 1e-12);
  }
  Tensor z = tensor({0.3, -0.8}, kFloat64).set_requires_grad(true);
  Tensor gz = autograd::grad({gelu(z).sum()}, {z}, {}, false, true)[0];
  EXPECT_NO_THROW(autograd::grad({gz.sum()}, {z}));
}

TEST(ElementwiseAutograd, ComparisonsAndMasksDoNotRequireGrad) {
  Tensor x = randn({4}).set_requires_grad(true);
  EXPECT_FALSE((x > 0).requires_grad());
  EXPECT_FALSE(logical_not(x).requires_grad());
  EXPECT_TRUE(where(x > 0, x, scalar_tensor(0.0)).requires_grad());
}

TEST(ElementwisePerf, SmallSameDtypeOpsAllocateOnlyTheirOutput) {
  Tensor a = ones({1}), b = ones({1});
  Tensor warm = a + b;
  MemoryStats before = memory_stats();
  Tensor c = a + b;
  Tensor d = a * b;
  EXPECT_EQ(memory_stats().requests - before.requests, 2u);  // one output each: no casts, no temporaries
  before = memory_stats();
  Tensor e = a * 2.0;
  EXPECT_EQ(memory_stats().requests - before.requests, 2u);  // the scalar in the right dtype + the output
}

// Results must not depend on the thread count, nor on where a SIMD tail falls.
TEST(ElementwiseDeterminism, OneVersusTwoThreadsBitIdentical) {
  Tensor x = randn({1000, 1000}), y = randn({1000});
  auto run = [&] {
    return std::vector<Tensor>{x + y,       x * 3,      exp(x),        gelu(x),    gelu(x, "tanh"),
                               tanh(x),     sigmoid(x), softplus(x),   x.pow(2.5), where(x > 0, x, y),
                               log(abs(x)), x.t() * 2,  maximum(x, y), elu(x)};
  };
  int prev = get_num_threads();
  set_num_threads(1);
  auto one = run();
  set_num_threads(2);
  auto two = run();
  set_num_threads(prev);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(bit_equal(one[i], two[i])) << "result " << i;
}

TEST(ElementwiseDeterminism, LayoutIndependentTranscendentals) {
  Tensor x = randn({37, 5});
  Tensor xt = x.t().contiguous().t();  // same values, column-major
  for (auto f : {+[](const Tensor& a) { return exp(a); }, +[](const Tensor& a) { return tanh(a); },
                 +[](const Tensor& a) { return gelu(a); }, +[](const Tensor& a) { return sigmoid(a); }}) {
    EXPECT_TRUE(bit_equal(f(x), f(xt)));
    EXPECT_TRUE(bit_equal(f(x).slice(0, 3, 20), f(x.slice(0, 3, 20))));
  }
}

// where's vectorised runs (both values per element, or one a broadcast scalar, and the in-place
// masked_fill_ whose output is its own third operand) against a per-element reference, on lengths
// that leave SIMD tails and for float32 and float64.
TEST(ElementwiseWhere, ContiguousAndScalarRunsMatchElementwiseReference) {
  Generator g(3);
  for (DType dt : {kFloat32, kFloat64})
    for (int64_t n : {1, 15, 37, 1000}) {
      Tensor x = randn({n}, dt, &g), y = randn({n}, dt, &g), c = randn({n}, kFloat32, &g) > 0;
      auto xs = x.to(kFloat64).to_vector<double>(), ys = y.to(kFloat64).to_vector<double>();
      auto cs = c.to(kInt64).to_vector<int64_t>();
      auto both = where(c, x, y).to(kFloat64).to_vector<double>();
      auto right0 = where(c, x, scalar_tensor(0.0)).to(kFloat64).to_vector<double>();
      auto left7 = where(c, scalar_tensor(7.0), y).to(kFloat64).to_vector<double>();
      Tensor filled = x.clone();
      filled.masked_fill_(c, -2.0);
      auto fill = filled.to(kFloat64).to_vector<double>();
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(both[i], cs[i] ? xs[i] : ys[i]) << i;
        EXPECT_EQ(right0[i], cs[i] ? xs[i] : 0.0) << i;
        EXPECT_EQ(left7[i], cs[i] ? 7.0 : ys[i]) << i;
        EXPECT_EQ(fill[i], cs[i] ? -2.0 : xs[i]) << i;
      }
    }
}

}  // namespace
}  // namespace nabla
