// Layer forward values and gradients vs PyTorch with fixed weights
// (fixtures: tests/fixtures/nn/gen_layers.py), plus layer-specific behaviour.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "nabla/io/npy.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"
#include "support/expect_close.h"
#include "support/fixture_suite.h"

namespace {
using nabla::Tensor;
namespace nn = nabla::nn;

Tensor load(const std::string& c, const std::string& name) {
  return nabla::testing::fixture_in("nn/layers", c, name);
}
bool has(const std::string& c, const std::string& name) {
  return nabla::testing::fixture_in_exists("nn/layers", c, name);
}

using nabla::testing::expect_close;

// Loads the case's weights into `m`, runs forward on its inputs, compares y and all gradients.
template <typename Fwd>
void check_case(const std::string& c, nn::Module& m, int num_inputs, Fwd fwd) {
  {
    nabla::NoGradGuard g;
    auto params = m.named_parameters();
    if (auto* w = params.find("weight")) w->copy_(load(c, "w"));
    if (auto* b = params.find("bias")) b->copy_(load(c, "b"));
  }
  std::vector<Tensor> xs;
  for (int i = 0; i < num_inputs; ++i) {
    Tensor x = load(c, "x" + std::to_string(i));
    if (x.is_floating_point()) x.set_requires_grad(true);
    xs.push_back(x);
  }
  Tensor y = fwd(xs);
  expect_close(y, load(c, "y"), c + ": y");
  (y * load(c, "gy")).sum().backward();
  for (int i = 0; i < num_inputs; ++i)
    if (has(c, "gx" + std::to_string(i)))
      expect_close(xs[i].grad(), load(c, "gx" + std::to_string(i)), c + ": gx");
  if (has(c, "gw")) expect_close(m.named_parameters().at("weight").grad(), load(c, "gw"), c + ": gw");
  if (has(c, "gb")) expect_close(m.named_parameters().at("bias").grad(), load(c, "gb"), c + ": gb");
}

template <typename H>
void check_single(const std::string& c, H layer) {
  check_case(c, *layer, 1, [&](const std::vector<Tensor>& x) { return layer(x[0]); });
}

TEST(Layers, Linear) { check_single("linear", nn::Linear(5, 3)); }
TEST(Layers, Bilinear) {
  nn::Bilinear b(4, 3, 2);
  check_case("bilinear", *b, 2, [&](const std::vector<Tensor>& x) { return b(x[0], x[1]); });
}
TEST(Layers, Conv1d) {
  check_single("conv1d", nn::Conv1d({.in = 3, .out = 4, .kernel = 3, .stride = 2, .padding = 1}));
}
TEST(Layers, Conv2d) {
  check_single(
      "conv2d",
      nn::Conv2d(
          {.in = 3, .out = 4, .kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}}));
  check_single("conv2d_groups",
               nn::Conv2d({.in = 4, .out = 6, .kernel = 3, .padding = 1, .groups = 2, .bias = false}));
}
TEST(Layers, ConvTranspose2d) {
  check_single(
      "conv_transpose2d",
      nn::ConvTranspose2d({.in = 3, .out = 4, .kernel = 3, .stride = 2, .padding = 1, .output_padding = 1}));
  check_single("conv_transpose2d_groups", nn::ConvTranspose2d({.in = 4,
                                                               .out = 6,
                                                               .kernel = {2, 3},
                                                               .stride = {1, 2},
                                                               .padding = {0, 1},
                                                               .groups = 2,
                                                               .dilation = {2, 1}}));
}
TEST(Layers, Pools) {
  check_single("max_pool2d", nn::MaxPool2d(2));
  check_single("max_pool2d_pad", nn::MaxPool2d(3, 2, 1));
  check_single("avg_pool2d", nn::AvgPool2d({.kernel = 3, .stride = 2, .padding = 1}));
  check_single("adaptive_avg_pool2d", nn::AdaptiveAvgPool2d(2, 3));
}
TEST(Layers, Embedding) {
  check_single("embedding", nn::Embedding(7, 4));
  check_single("embedding_pad", nn::Embedding({.num = 7, .dim = 4, .padding_idx = 3}));
}

TEST(Layers, ConvTranspose2dGradcheck) {
  nabla::manual_seed(3);
  auto x = nabla::randn({1, 2, 3, 3}, nabla::kFloat64).set_requires_grad(true);
  auto w = nabla::randn({2, 3, 3, 3}, nabla::kFloat64).set_requires_grad(true);
  auto b = nabla::randn({3}, nabla::kFloat64).set_requires_grad(true);
  nabla::ConvTranspose2dOptions o;
  o.stride[0] = o.stride[1] = 2;
  o.padding[0] = 1;
  o.output_padding[1] = 1;
  EXPECT_TRUE(nabla::autograd::gradcheck(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{nabla::conv_transpose2d(in[0], in[1], in[2], o)};
      },
      {x, w, b}));
}

TEST(Layers, ConvTranspose2dErrors) {
  auto w = nabla::randn({3, 4, 3, 3});
  try {
    nabla::conv_transpose2d(nabla::randn({1, 5, 4, 4}), w);
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv_transpose2d: input [1, 5, 4, 4] has 5 channels"),
              std::string::npos)
        << e.what();
  }
  nabla::ConvTranspose2dOptions o;
  o.output_padding[0] = 1;  // >= stride 1
  EXPECT_THROW(nabla::conv_transpose2d(nabla::randn({1, 3, 4, 4}), w, {}, o), nabla::Error);
}

TEST(Layers, Conv1dUnbatchedAndShapes) {
  nn::Conv1d c(2, 5, 3);
  EXPECT_EQ(c(nabla::randn({2, 10})).shape(), (nabla::Shape{5, 8}));
  EXPECT_EQ(c(nabla::randn({4, 2, 10})).shape(), (nabla::Shape{4, 5, 8}));
}

TEST(Layers, Activations) {
  auto x = nabla::linspace(-3, 3, 12).view({3, 4});
  EXPECT_TRUE(nabla::equal(nn::ReLU()(x), nabla::relu(x)));
  EXPECT_TRUE(nabla::equal(nn::LeakyReLU(0.2)(x), nabla::leaky_relu(x, 0.2)));
  EXPECT_TRUE(nabla::equal(nn::GELU("tanh")(x), nabla::gelu(x, "tanh")));
  EXPECT_TRUE(nabla::equal(nn::SiLU()(x), nabla::silu(x)));
  EXPECT_TRUE(nabla::equal(nn::Sigmoid()(x), nabla::sigmoid(x)));
  EXPECT_TRUE(nabla::equal(nn::Tanh()(x), nabla::tanh(x)));
  EXPECT_TRUE(nabla::equal(nn::Softmax(1)(x), nabla::softmax(x, 1)));
  EXPECT_TRUE(nabla::equal(nn::LogSoftmax(0)(x), nabla::log_softmax(x, 0)));
  EXPECT_TRUE(nabla::equal(nn::Identity()(x), x));
  EXPECT_EQ(nn::Flatten()(nabla::zeros({2, 3, 4, 5})).shape(), (nabla::Shape{2, 60}));
  EXPECT_EQ(nn::Flatten(0, 1)(nabla::zeros({2, 3, 4})).shape(), (nabla::Shape{6, 4}));
  EXPECT_THROW(nn::GELU("fast"), nabla::Error);
}

TEST(Layers, DropoutStatistics) {
  nabla::manual_seed(11);
  nn::Dropout drop(0.3);
  auto x = nabla::ones({200000});
  auto y = drop(x);
  double kept = (y != nabla::scalar_tensor(0.0)).to(nabla::kFloat64).mean().item<double>();
  EXPECT_NEAR(kept, 0.7, 0.005);
  EXPECT_NEAR(y.mean().item<double>(), 1.0, 0.01);       // unbiased
  EXPECT_NEAR(y.max().item<double>(), 1.0 / 0.7, 1e-6);  // survivors scaled by 1/(1-p)
  drop->eval();
  EXPECT_TRUE(nabla::equal(drop(x), x));
  EXPECT_THROW(nn::Dropout(1.5), nabla::Error);
}

TEST(Layers, EmbeddingPaddingRowGetsNoGradient) {
  nn::Embedding emb({.num = 5, .dim = 2, .padding_idx = 1});
  EXPECT_TRUE(nabla::equal(emb->weight[1], nabla::zeros({2})));
  emb(nabla::tensor({1, 1, 2})).sum().backward();
  auto g = emb->weight.grad();
  EXPECT_TRUE(nabla::equal(g[1], nabla::zeros({2})));
  EXPECT_TRUE(nabla::equal(g[2], nabla::ones({2})));
  EXPECT_THROW(emb(nabla::ones({2})), nabla::Error);  // float indices
}

}  // namespace
