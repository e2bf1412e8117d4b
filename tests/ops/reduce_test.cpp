// Focused tests of the reduction family: error messages, dtype rules, accuracy, zero-size,
// thread-count determinism and softmax stability (the PyTorch comparisons are in op_db_reduce).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "nabla/nabla.h"

namespace nabla {
namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
#define EXPECT_ERROR_HAS(stmt, text) \
  EXPECT_NE(error_of([&] { stmt; }).find(text), std::string::npos) << error_of([&] { stmt; })

struct ThreadsGuard {
  int saved = get_num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

TEST(Reduce, BadDimsNameTheOpAndTheDim) {
  auto x = zeros({2, 3});
  EXPECT_ERROR_HAS(sum(x, {2}), "sum: dim 2 out of range");
  EXPECT_ERROR_HAS(amax(x, {-3}), "amax: dim -3 out of range");
  EXPECT_ERROR_HAS(sum(x, {1, -1}), "sum: dim 1 appears multiple times");
  EXPECT_ERROR_HAS(max(x, 2), "max: dim 2 out of range");
  EXPECT_ERROR_HAS(argmin(x, -3), "argmin: dim -3 out of range");
  EXPECT_ERROR_HAS(softmax(x, 5), "softmax: dim 5 out of range");
  EXPECT_ERROR_HAS(amax(zeros({0, 3}), {0}), "amax: cannot reduce dim 0 of size 0");
  EXPECT_ERROR_HAS(max(zeros({0, 3}), 0), "max: cannot reduce dim 0 of size 0");
  EXPECT_ERROR_HAS(max(zeros({0})), "max: expected a non-empty tensor");
  EXPECT_ERROR_HAS(mean(arange(4)), "mean: expected a floating point input, got int64");
  EXPECT_ERROR_HAS(sum_to(zeros({2, 3}), {4, 3}), "sum_to: shape [2, 3] cannot be summed to [4, 3]");
}

TEST(Reduce, LossErrors) {
  auto logits = zeros({4, 3});
  EXPECT_ERROR_HAS(cross_entropy(logits, tensor<int64_t>({0, 1, 3, 2})),
                   "cross_entropy: target 3 is out of bounds for 3");
  EXPECT_ERROR_HAS(cross_entropy(logits, tensor<int64_t>({0, 1})), "expected a target of shape [4]");
  EXPECT_ERROR_HAS(cross_entropy(logits, zeros({4})), "expected integer class indices");
  EXPECT_ERROR_HAS(nll_loss(logits, tensor<int64_t>({0, 1, 2, 2}), "avg"), "reduction must be");
}

TEST(Reduce, IntegerAndBoolSumToInt64) {
  auto s = sum(full({2}, 2000000000, kInt32));
  EXPECT_EQ(s.dtype(), kInt64);
  EXPECT_EQ(s.item<int64_t>(), 4000000000LL);
  auto b = sum(tensor<bool>({true, false, true}));
  EXPECT_EQ(b.dtype(), kInt64);
  EXPECT_EQ(b.item<int64_t>(), 2);
  EXPECT_EQ(prod(full({2}, 100000, kInt32)).item<int64_t>(), 10000000000LL);
  EXPECT_EQ(amax(tensor<int64_t>({3, 9, -2}).to(kInt32)).dtype(), kInt32);
}

TEST(Reduce, HalfAccumulatesInFloat) {
  // Accumulating in float16 would stall at 2048 (2048 + 1 rounds back to 2048).
  auto s = sum(ones({10000}, kFloat16));
  EXPECT_EQ(s.dtype(), kFloat16);
  EXPECT_EQ(s.item<float>(), 10000.0f);
  EXPECT_EQ(sum(ones({10000}, kBFloat16).reshape({100, 100}), {0, 1}).item<float>(),
            9984.0f);  // nearest bf16
}

TEST(Reduce, Float32SumOfTenMillionIsAccurate) {
  const int64_t n = 10000000;
  double ref = static_cast<double>(n) * static_cast<double>(0.1f);
  auto x = full({n}, 0.1f);
  EXPECT_LT(std::abs(sum(x).item<double>() - ref) / ref, 1e-6);
  EXPECT_LT(std::abs(mean(x).item<double>() - ref / n) / (ref / n), 1e-6);
  // Strided (gathered) and column (tiled) layouts keep the accuracy.
  auto wide = full({2 * n}, 0.1f).slice(0, 0, 2 * n, 2);
  EXPECT_LT(std::abs(sum(wide).item<double>() - ref) / ref, 1e-6);
  auto cols = sum(full({n / 16, 16}, 0.1f), {0});
  double cref = static_cast<double>(n / 16) * static_cast<double>(0.1f);
  for (float v : cols.to_vector<float>()) EXPECT_LT(std::abs(v - cref) / cref, 1e-6);
}

TEST(Reduce, BitIdenticalForOneAndTwoThreads) {
  ThreadsGuard guard;
  Generator g(5);
  auto big = randn({1 << 24}, kFloat32, &g);
  auto mat = randn({1024, 3000}, kFloat32, &g);
  auto run = [&] {
    return std::vector<Tensor>{sum(big),       mean(big),          sum(mat, {1}),
                               sum(mat, {0}),  sum(mat.t(), {1}),  sum(mat.reshape({2, 512, 3000}), {0, 2}),
                               amax(mat, {0}), softmax(mat, -1),   log_softmax(mat, 0),
                               var(mat, {1}),  max(mat, 0).indices};
  };
  set_num_threads(1);
  auto one = run();
  set_num_threads(2);
  auto two = run();
  for (size_t k = 0; k < one.size(); ++k) EXPECT_TRUE(equal(one[k], two[k])) << "result " << k;
}

TEST(Reduce, SoftmaxIsStableForLargeInputs) {
  auto x = tensor<float>({{1000.f, -1000.f, 0.f}, {-1000.f, -1000.f, -1000.f}});
  auto y = softmax(x, 1).to_vector<float>();
  EXPECT_FLOAT_EQ(y[0], 1.f);
  EXPECT_FLOAT_EQ(y[1], 0.f);
  EXPECT_FLOAT_EQ(y[2], 0.f);
  for (int k = 3; k < 6; ++k) EXPECT_FLOAT_EQ(y[k], 1.f / 3);
  auto l = log_softmax(x, 1).to_vector<float>();
  EXPECT_FLOAT_EQ(l[0], 0.f);
  EXPECT_FLOAT_EQ(l[1], -2000.f);
  EXPECT_NEAR(l[4], -std::log(3.f), 1e-6);
  // Along a non-last dim (the column kernel).
  auto c = softmax(x.t().contiguous(), 0).to_vector<float>();
  EXPECT_FLOAT_EQ(c[0], 1.f);
  EXPECT_TRUE(std::isfinite(logsumexp(tensor<float>({1e30f, 1e30f}), {0}).item<float>()));
}

TEST(Reduce, NanPropagates) {
  auto x = tensor<float>({1.f, NAN, 3.f});
  EXPECT_TRUE(std::isnan(amax(x).item<float>()));
  EXPECT_TRUE(std::isnan(amin(x).item<float>()));
  EXPECT_EQ(argmax(x, 0).item<int64_t>(), 1);
  EXPECT_EQ(min(x, 0).indices.item<int64_t>(), 1);
}

TEST(Reduce, ZeroSize) {
  EXPECT_EQ(sum(zeros({0})).item<float>(), 0.f);
  EXPECT_EQ(prod(zeros({0})).item<float>(), 1.f);
  EXPECT_TRUE(std::isnan(mean(zeros({0})).item<float>()));
  EXPECT_EQ(sum(zeros({2, 0}), {1}).shape(), Shape({2}));
  EXPECT_EQ(amax(zeros({0, 3}), {1}).shape(), Shape({0}));
  EXPECT_EQ(softmax(zeros({0, 3}), 1).shape(), Shape({0, 3}));
}

TEST(Reduce, ScalarInputs) {
  auto s = full({}, 2.5f);
  EXPECT_EQ(sum(s).item<float>(), 2.5f);
  EXPECT_EQ(sum(s, {0}).shape(), Shape({}));
  auto r = max(s, 0);
  EXPECT_EQ(r.values.shape(), Shape({}));
  EXPECT_EQ(r.indices.item<int64_t>(), 0);
  EXPECT_EQ(softmax(s, 0).item<float>(), 1.f);
}

TEST(Reduce, SumToUndoesBroadcasting) {
  auto x = ones({2, 3, 4});
  EXPECT_TRUE(equal(sum_to(x, {3, 1}), full({3, 1}, 8.f)));
  EXPECT_TRUE(equal(sum_to(x, {1, 4}), full({1, 4}, 6.f)));
  EXPECT_TRUE(equal(sum_to(x, {}), full({}, 24.f)));
  EXPECT_TRUE(equal(sum_to(x, {2, 3, 4}), x));
}

TEST(Reduce, UnbatchedCrossEntropyMatchesBatched) {
  auto logits = tensor<float>({0.5f, -1.f, 2.f, 0.f});
  auto a = cross_entropy(logits, full({}, 2, kInt64));
  auto b = cross_entropy(logits.unsqueeze(0), tensor<int64_t>({2}));
  EXPECT_EQ(a.shape(), Shape({}));
  EXPECT_NEAR(a.item<float>(), b.item<float>(), 1e-6);
  // Everything ignored: 0 / 0, like PyTorch.
  EXPECT_TRUE(std::isnan(cross_entropy(zeros({2, 3}), tensor<int64_t>({-100, -100})).item<float>()));
}

TEST(Reduce, MaxDimGradientGoesToFirstIndex) {
  auto x = tensor<float>({{1.f, 5.f, 5.f}, {2.f, 0.f, 2.f}}).set_requires_grad(true);
  max(x, 1).values.sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 1, 0, 1, 0, 0}));
}

TEST(Reduce, ProdGradientWithZeros) {
  auto x = tensor<float>({{2.f, 0.f, 3.f}, {0.f, 4.f, 0.f}}).set_requires_grad(true);
  prod(x, {1}).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 6, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace nabla
