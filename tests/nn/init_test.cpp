// nn::init distributions and the PyTorch-equivalent default init of Linear / Conv layers.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/nabla.h"
#include "nabla/nn.h"

namespace {
using nabla::Tensor;
namespace nn = nabla::nn;
namespace init = nabla::nn::init;

struct Stats {
  double mean, var, absmax;
};
Stats stats(const Tensor& t) {
  Tensor d = t.to(nabla::kFloat64);
  return {d.mean().item<double>(), nabla::var(d, {}, 0).item<double>(), d.abs().max().item<double>()};
}

// Uniform(-b, b): all within b, reaching close to it, variance b^2/3.
void expect_uniform(const Tensor& t, double b, const char* what) {
  Stats s = stats(t);
  EXPECT_LE(s.absmax, b * (1 + 1e-6)) << what;
  EXPECT_GE(s.absmax, b * 0.98) << what;
  EXPECT_NEAR(s.var, b * b / 3, b * b / 3 * 0.05) << what;
  EXPECT_NEAR(s.mean, 0.0, b * 0.05) << what;
}
void expect_normal(const Tensor& t, double std, const char* what) {
  Stats s = stats(t);
  EXPECT_NEAR(std::sqrt(s.var), std, std * 0.03) << what;
  EXPECT_NEAR(s.mean, 0.0, std * 0.03) << what;
}

TEST(Init, LinearAndConvDefaultsMatchPyTorch) {
  nabla::manual_seed(5);
  nn::Linear fc(784, 256);
  expect_uniform(fc->weight, 1 / std::sqrt(784.0), "Linear weight");  // kaiming_uniform(a=sqrt(5))
  nn::Linear fc_bias(64, 20000);
  expect_uniform(fc_bias->bias, 1 / std::sqrt(64.0), "Linear bias");
  nn::Conv2d conv(16, 64, 3);
  expect_uniform(conv->weight, 1 / std::sqrt(16.0 * 9), "Conv2d weight");
  nn::Conv2d conv_b(4, 8192, 3);
  expect_uniform(conv_b->bias, 1 / std::sqrt(4.0 * 9), "Conv2d bias");
  nn::ConvTranspose2d up(64, 32, 3);  // weight [64, 32, 3, 3]: fan_in = 32 * 9, as in PyTorch
  expect_uniform(up->weight, 1 / std::sqrt(32.0 * 9), "ConvTranspose2d weight");
  nn::Conv1d c1(8, 256, 5);
  expect_uniform(c1->weight, 1 / std::sqrt(40.0), "Conv1d weight");
  nn::Embedding emb(1000, 64);
  expect_normal(emb->weight, 1.0, "Embedding weight");
}

TEST(Init, Distributions) {
  nabla::manual_seed(6);
  auto w = nabla::empty({300, 400});
  init::kaiming_uniform_(w, 0, "fan_in", "relu");
  expect_uniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 400), "kaiming_uniform_ relu");
  init::kaiming_normal_(w, 0, "fan_out", "relu");
  expect_normal(w, std::sqrt(2.0) / std::sqrt(300.0), "kaiming_normal_ fan_out");
  init::xavier_uniform_(w, 2.0);
  expect_uniform(w, 2.0 * std::sqrt(6.0 / 700), "xavier_uniform_");
  init::xavier_normal_(w);
  expect_normal(w, std::sqrt(2.0 / 700), "xavier_normal_");
  init::uniform_(w, -3, 3);
  expect_uniform(w, 3.0, "uniform_");
  init::normal_(w, 2.0, 0.5);
  EXPECT_NEAR(w.mean().item<double>(), 2.0, 0.01);
  init::constant_(w, 0.25);
  EXPECT_EQ(w.min().item<float>(), 0.25f);
  init::zeros_(w);
  EXPECT_EQ(w.abs().max().item<float>(), 0.f);
  init::ones_(w);
  EXPECT_EQ(w.sum().item<double>(), 120000.0);
  EXPECT_THROW(init::kaiming_uniform_(nabla::empty({5})), nabla::Error);
  EXPECT_THROW(init::kaiming_uniform_(w, 0, "fan_avg"), nabla::Error);
}

TEST(Init, Gain) {
  EXPECT_DOUBLE_EQ(init::calculate_gain("linear"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3);
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu"), std::sqrt(2.0 / (1 + 0.0001)));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3));
  EXPECT_THROW(init::calculate_gain("swish"), nabla::Error);
}

TEST(Init, Orthogonal) {
  for (auto shape : {nabla::Shape{20, 8}, nabla::Shape{8, 20}, nabla::Shape{6, 2, 3, 3}}) {
    auto w = nabla::empty(shape, nabla::kFloat64);
    init::orthogonal_(w, 1.5);
    auto m = w.view({shape[0], -1});
    int64_t r = m.size(0), c = m.size(1);
    auto g = r >= c ? nabla::matmul(m.t(), m) : nabla::matmul(m, m.t());
    EXPECT_TRUE(nabla::allclose(g, nabla::eye(std::min(r, c), -1, nabla::kFloat64) * 2.25, 1e-9, 1e-9))
        << shape;
  }
}

TEST(Init, SeededAndExplicitGenerators) {
  auto a = nabla::empty({50}), b = nabla::empty({50});
  nabla::manual_seed(9);
  init::normal_(a);
  nabla::manual_seed(9);
  init::normal_(b);
  EXPECT_TRUE(nabla::equal(a, b));
  nabla::Generator g1(3), g2(3);
  init::uniform_(a, 0, 1, &g1);
  init::uniform_(b, 0, 1, &g2);
  EXPECT_TRUE(nabla::equal(a, b));
  // Initialisers do not record autograd history on parameters.
  nn::Linear fc(3, 3);
  init::xavier_uniform_(fc->weight);
  EXPECT_TRUE(fc->weight.is_leaf());
}

}  // namespace
