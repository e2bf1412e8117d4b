// Focused tests of the conv family: error messages, dtypes, zero batch, second derivatives and
// thread-count determinism.
#include <gtest/gtest.h>

#include "nabla/nabla.h"

namespace nabla {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(Conv, ErrorMessages) {
  EXPECT_EQ(error_of([] {
              conv2d(zeros({2, 3, 28, 28}), zeros({32, 1, 3, 3}));
            }),
            "conv2d: input has 3 channels but weight [32, 1, 3, 3] expects 1 (groups=1)");
  EXPECT_EQ(
      error_of([] {
        conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 3, 3}));
      }),
      "conv2d: input [1, 1, 2, 2] is too small for weight [1, 1, 3, 3] with stride [1, 1], padding [0, 0], "
      "dilation [1, 1] (output size 0x0)");
  EXPECT_TRUE(contains(error_of([] {
                         conv2d(zeros({1, 4, 5, 5}), zeros({3, 2, 3, 3}), {}, {.groups = 2});
                       }),
                       "conv2d: weight [3, 2, 3, 3] has 3 output channels, not divisible by groups=2"));
  EXPECT_TRUE(contains(error_of([] {
                         conv2d(zeros({1, 2, 5, 5}), zeros({3, 2, 3, 3}), zeros({4}));
                       }),
                       "conv2d: bias of shape [4] does not match weight [3, 2, 3, 3]"));
  EXPECT_TRUE(contains(error_of([] {
                         conv2d(zeros({1, 2, 5, 5}), zeros({3, 2, 3, 3}), {}, {.stride = {0, 1}});
                       }),
                       "conv2d: stride must be positive, got [0, 1]"));
  EXPECT_TRUE(contains(error_of([] {
                         conv2d(zeros({2, 5, 5}, kInt64), zeros({3, 2, 3, 3}, kInt64));
                       }),
                       "conv2d: expected a floating-point input"));
  EXPECT_TRUE(contains(error_of([] {
                         conv2d(zeros({5, 5}), zeros({3, 2, 3, 3}));
                       }),
                       "conv2d: expected a 4-d input"));
  EXPECT_EQ(
      error_of([] {
        max_pool2d(zeros({1, 1, 2, 2}), {.kernel = {3, 3}});
      }),
      "max_pool2d: input [1, 1, 2, 2] is too small for kernel [3, 3] with stride [3, 3] and padding [0, 0] "
      "(output size 0x0)");
  EXPECT_TRUE(
      contains(error_of([] {
                 avg_pool2d(zeros({1, 1, 6, 6}), {.kernel = {2, 2}, .padding = {2, 2}});
               }),
               "avg_pool2d: padding [2, 2] must be non-negative and at most half of the kernel size [2, 2]"));
  EXPECT_TRUE(contains(error_of([] {
                         adaptive_avg_pool2d(zeros({1, 1, 6, 6}), 0, 3);
                       }),
                       "adaptive_avg_pool2d: output size must be positive, got [0, 3]"));
}

TEST(Conv, HalfTypesAndPromotion) {
  Generator g(1);
  auto x = randn({2, 3, 6, 6}, kFloat32, &g), w = randn({4, 3, 3, 3}, kFloat32, &g),
       b = randn({4}, kFloat32, &g);
  auto ref = conv2d(x, w, b, {.padding = {1, 1}});
  for (DType d : {kFloat16, kBFloat16}) {
    auto r = conv2d(x.to(d), w.to(d), b.to(d), {.padding = {1, 1}});
    EXPECT_EQ(r.dtype(), d);
    EXPECT_TRUE(allclose(r.to(kFloat32), ref, 5e-2, 1e-1)) << d;
    EXPECT_TRUE(allclose(max_pool2d(x.to(d)).to(kFloat32), max_pool2d(x), 1e-2, 1e-2)) << d;
    EXPECT_TRUE(allclose(avg_pool2d(x.to(d)).to(kFloat32), avg_pool2d(x), 1e-2, 1e-2)) << d;
  }
  EXPECT_EQ(conv2d(x, w.to(kFloat64)).dtype(), kFloat64);
}

TEST(Conv, ZeroBatch) {
  auto x = zeros({0, 3, 6, 6}).set_requires_grad(true), w = ones({4, 3, 3, 3}).set_requires_grad(true);
  auto y = conv2d(x, w);
  EXPECT_EQ(y.shape(), Shape({0, 4, 4, 4}));
  y.sum().backward();
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_EQ(w.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(max_pool2d(zeros({0, 2, 4, 4})).shape(), Shape({0, 2, 2, 2}));
}

// conv2d's grad ops are differentiable again (their VJPs are conv2d and each other).
TEST(Conv, SecondDerivativesMatchFiniteDifferences) {
  Generator g(2);
  auto x = randn({2, 4, 5, 5}, kFloat64, &g).set_requires_grad(true);
  auto w = randn({4, 2, 3, 3}, kFloat64, &g).set_requires_grad(true);
  Conv2dOptions o{.stride = {2, 1}, .padding = {1, 1}, .groups = 2};
  // gradcheck's finite differences run under NoGradGuard; the inner gradient needs recording.
  auto fn = [&](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    EnableGradGuard grad_on;
    auto y = conv2d(in[0], in[1], {}, o);
    auto grads = autograd::grad({(y * y).sum()}, {in[0], in[1]}, {}, true, true);
    return {grads[0], grads[1]};
  };
  EXPECT_NO_THROW(autograd::gradcheck(fn, {x, w}));
  auto pool = [&](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    EnableGradGuard grad_on;
    auto y = max_pool2d(in[0], {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}) +
             avg_pool2d(in[0], {.kernel = {2, 2}, .stride = {1, 1}}).sum() +
             adaptive_avg_pool2d(in[0], 3, 3).sum();
    return {autograd::grad({(y * y).sum()}, {in[0]}, {}, true, true)[0]};
  };
  EXPECT_NO_THROW(autograd::gradcheck(pool, {x}));
}

TEST(Conv, ThreadCountDoesNotChangeResults) {
  Generator g(3);
  auto x = randn({8, 16, 28, 28}, kFloat32, &g).set_requires_grad(true);
  auto w = randn({32, 16, 3, 3}, kFloat32, &g).set_requires_grad(true);
  auto b = randn({32}, kFloat32, &g).set_requires_grad(true);
  auto run = [&](int threads) {
    set_num_threads(threads);
    for (auto* t : {&x, &w, &b}) t->set_grad({});
    auto y = conv2d(x, w, b, {.padding = {1, 1}});
    auto p = max_pool2d(y) + avg_pool2d(y) + adaptive_avg_pool2d(y, 5, 5).sum();
    (p * p).sum().backward();
    std::vector<float> out = y.to_vector<float>();
    for (const Tensor& t : {p, x.grad(), w.grad(), b.grad()}) {
      auto v = t.to_vector<float>();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  };
  int saved = get_num_threads();
  auto one = run(1), two = run(2);
  set_num_threads(saved);
  EXPECT_EQ(one, two);
}

}  // namespace
}  // namespace nabla
