// Focused tests of the conv family: error messages, dtypes, zero batch, second derivatives and
// thread-count determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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
  // With a bias the weight and bias grads come from one op (conv2d_weight_bias_grad): its VJP too.
  auto b = randn({4}, kFloat64, &g).set_requires_grad(true);
  auto fb = [&](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    EnableGradGuard grad_on;
    auto y = conv2d(in[0], in[1], in[2], o);
    auto grads = autograd::grad({(y * y * y).sum()}, {in[0], in[1], in[2]}, {}, true, true);
    return {grads[0], grads[1], grads[2]};
  };
  EXPECT_NO_THROW(autograd::gradcheck(fb, {x, w, b}));
  auto pool = [&](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    EnableGradGuard grad_on;
    auto y = max_pool2d(in[0], {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}) +
             avg_pool2d(in[0], {.kernel = {2, 2}, .stride = {1, 1}}).sum() +
             adaptive_avg_pool2d(in[0], 3, 3).sum() +
             relu_max_pool2d(in[0], {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}});
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
    auto p = max_pool2d(y) + avg_pool2d(y) + adaptive_avg_pool2d(y, 5, 5).sum() + relu_max_pool2d(y);
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

// The 2x2 no-padding fast paths (AVX-512 for stride 2 on unit-stride rows, scalar otherwise)
// against a naive loop: values, argmax indices (first maximum in row-major order wins), NaN
// propagation (the last NaN in the window wins) and ties, for widths that are not multiples of 16.
TEST(Conv, MaxPool2x2MatchesNaiveLoop) {
  Generator g(4);
  for (int64_t W : {4, 5, 14, 28, 33, 70}) {
    for (int64_t stride : {1, 2}) {
      for (bool strided : {false, true}) {
        int64_t H = W % 2 ? 7 : 6;  // odd sizes leave a row / column that no 2x2 stride-2 window covers
        auto base = randint(-3, 4, {2, 3, H, strided ? 2 * W : W}, kFloat32, &g);  // ties are common
        auto v = base.to_vector<float>();
        v[5] = std::nanf("");
        v[W + 6] = std::nanf("");
        v[2 * W + 9] = -std::numeric_limits<float>::infinity();
        base = tensor(v, base.shape());
        auto x = (strided ? base.view({2, 3, H, W, 2}).select(4, 0) : base).detach().set_requires_grad(true);
        ASSERT_EQ(x.stride(3), strided ? 2 : 1);
        auto xs = x.contiguous().to_vector<float>();
        auto y = max_pool2d(x, {.kernel = {2, 2}, .stride = {stride, stride}});
        // The argmax indices, seen through the gradient: r (distinct integers) lands on them.
        auto r = arange(y.numel()).to(kFloat32).view(y.shape());
        (y * r).sum().backward();
        auto gv = x.grad().contiguous().to_vector<float>();
        std::vector<float> want_g(gv.size(), 0.0f);
        int64_t Ho = (H - 2) / stride + 1, Wo = (W - 2) / stride + 1;
        ASSERT_EQ(y.shape(), Shape({2, 3, Ho, Wo}));
        auto yv = y.to_vector<float>();
        for (int64_t p = 0; p < 6; ++p)
          for (int64_t oh = 0; oh < Ho; ++oh)
            for (int64_t ow = 0; ow < Wo; ++ow) {
              float best = -std::numeric_limits<float>::infinity();
              int64_t bi = oh * stride * W + ow * stride;
              for (int64_t h = oh * stride; h < oh * stride + 2; ++h)
                for (int64_t w = ow * stride; w < ow * stride + 2; ++w) {
                  float val = xs[p * H * W + h * W + w];
                  if (val > best || std::isnan(val)) best = val, bi = h * W + w;
                }
              int64_t o = (p * Ho + oh) * Wo + ow;
              if (std::isnan(best))
                EXPECT_TRUE(std::isnan(yv[o])) << "W=" << W << " stride=" << stride;
              else
                EXPECT_EQ(yv[o], best) << "W=" << W << " stride=" << stride << " at " << o;
              want_g[p * H * W + bi] += static_cast<float>(o);
            }
        EXPECT_EQ(gv, want_g) << "W=" << W << " stride=" << stride << " strided=" << strided;
      }
    }
  }
}

// relu_max_pool2d (relu after pooling, gradient masked on the pooled grid) against the unfused
// max_pool2d(relu(x)): identical values and input gradients, on integer data where ReLU creates
// ties at zero, with NaN and -inf, on the 2x2 fast path (unit and strided rows) and the general one.
TEST(Conv, ReluMaxPoolMatchesUnfused) {
  Generator g(5);
  const Pool2dOptions opts[] = {{}, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}};
  for (int64_t W : {5, 14, 33}) {
    for (const Pool2dOptions& o : opts) {
      for (bool strided : {false, true}) {
        int64_t H = W % 2 ? 7 : 6;
        auto base = randint(-3, 4, {2, 3, H, strided ? 2 * W : W}, kFloat32, &g);
        auto v = base.to_vector<float>();
        v[5] = std::nanf("");
        v[2 * W + 9] = -std::numeric_limits<float>::infinity();
        base = tensor(v, base.shape());
        auto x = (strided ? base.view({2, 3, H, W, 2}).select(4, 0) : base).detach();
        auto x1 = x.clone().set_requires_grad(true), x2 = x.clone().set_requires_grad(true);
        auto fused = relu_max_pool2d(x1, o), plain = max_pool2d(relu(x2), o);
        ASSERT_EQ(fused.shape(), plain.shape());
        auto r = arange(fused.numel()).to(kFloat32).view(fused.shape()) - 7.0;
        (fused * r).sum().backward();
        (plain * r).sum().backward();
        auto fv = fused.to_vector<float>(), pv = plain.to_vector<float>();
        for (size_t i = 0; i < fv.size(); ++i) {
          if (std::isnan(pv[i]))
            EXPECT_TRUE(std::isnan(fv[i])) << "W=" << W << " at " << i;
          else
            EXPECT_EQ(fv[i], pv[i]) << "W=" << W << " at " << i;
        }
        EXPECT_EQ(x1.grad().to_vector<float>(), x2.grad().to_vector<float>()) << "W=" << W;
      }
    }
  }
}

}  // namespace
}  // namespace nabla
