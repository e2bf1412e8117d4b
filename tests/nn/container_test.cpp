// nn::Sequential's fusions (src/nn/container.cpp): ReLU + MaxPool2d gives exactly what the layers
// give one by one; Conv2d + ReLU + MaxPool2d runs as one conv2d_relu_max_pool2d op with the same
// values and gradients equal up to rounding (and twice differentiable); errors still name the
// failing layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "nabla/nabla.h"
#include "nabla/nn.h"

namespace {
using nabla::Tensor;
namespace nn = nabla::nn;
namespace F = nabla::F;

// Parameter gradients of sum(out^2) (and the input's, when it requires one).
std::vector<std::vector<float>> grads_of(nn::Sequential& net, const Tensor& out, Tensor x) {
  for (auto& p : net->parameters()) p.set_grad({});
  if (x.requires_grad()) x.set_grad({});
  (out * out).sum().backward();
  std::vector<std::vector<float>> g;
  for (auto& p : net->parameters()) g.push_back(p.grad().to_vector<float>());
  if (x.requires_grad()) g.push_back(x.grad().to_vector<float>());
  return g;
}

// The layers called one at a time (no fusion).
Tensor layer_by_layer(nn::Sequential& net, Tensor x) {
  for (size_t i = 0; i < net->size(); ++i) x = net->operator[](i)->forward(x);
  return x;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::abs(x)));
  return m;
}

TEST(Sequential, ReluMaxPoolFusionGivesTheLayerByLayerResult) {
  nabla::manual_seed(3);
  // No conv in front of the ReLU: only the ReLU + MaxPool2d fusion, exact forward and backward.
  nn::Sequential net{nn::Identity(), nn::ReLU(), nn::MaxPool2d(2), nn::ReLU(),
                     nn::MaxPool2d({.kernel = 3, .stride = 2, .padding = 1}), nn::Flatten(), nn::Linear(2 * 2 * 2, 3)};
  Tensor x = nabla::randn({5, 2, 6, 6}).requires_grad_(true);
  Tensor y = net(x), z = layer_by_layer(net, x);
  ASSERT_EQ(y.shape(), z.shape());
  EXPECT_EQ(y.to_vector<float>(), z.to_vector<float>());
  auto fused = grads_of(net, y, x), plain = grads_of(net, z, x);
  ASSERT_EQ(fused.size(), plain.size());
  for (size_t i = 0; i < fused.size(); ++i) EXPECT_EQ(fused[i], plain[i]) << "parameter " << i;
}

TEST(Sequential, ConvReluMaxPoolRunsAsOneOpWithTheLayerByLayerResult) {
  nabla::manual_seed(5);
  // A 2x2 pool (the winners-only backward) and a 3x3 one (the unfused kernels inside the op).
  nn::Sequential net{nn::Conv2d({.in = 2, .out = 8, .kernel = 3, .padding = 1}),
                     nn::ReLU(),
                     nn::MaxPool2d(2),
                     nn::Conv2d({.in = 8, .out = 4, .kernel = 3, .padding = 1}),
                     nn::ReLU(),
                     nn::MaxPool2d({.kernel = 3, .stride = 2, .padding = 1}),
                     nn::Flatten(),
                     nn::Linear(4 * 4 * 4, 3)};
  nn::Sequential head;  // the first three layers (shared)
  for (size_t i = 0; i < 3; ++i) head->push_back(std::to_string(i), net->operator[](i));
  for (bool input_grad : {false, true}) {  // without: the first layer's weight-only backward
    Tensor x = nabla::randn({5, 2, 14, 14}).requires_grad_(input_grad);
    Tensor h = head(x);
    ASSERT_TRUE(h.grad_fn());
    EXPECT_EQ(nabla::autograd::node_name(*h.grad_fn()), "conv2d_relu_max_pool2d");
    Tensor y = net(x), z = layer_by_layer(net, x);
    ASSERT_EQ(y.shape(), z.shape());
    EXPECT_EQ(y.to_vector<float>(), z.to_vector<float>());  // per image the same kernels
    // Gradients: the same sums in another order (visiting only the pool's winners).
    auto fused = grads_of(net, y, x), plain = grads_of(net, z, x);
    ASSERT_EQ(fused.size(), plain.size());
    for (size_t i = 0; i < fused.size(); ++i) {
      ASSERT_EQ(fused[i].size(), plain[i].size());
      const double tol = 1e-5 * std::max(1.0, max_abs(plain[i]));
      double worst = 0;
      for (size_t k = 0; k < fused[i].size(); ++k)
        worst = std::max(worst, static_cast<double>(std::abs(fused[i][k] - plain[i][k])));
      EXPECT_LE(worst, tol) << "gradient " << i << (input_grad ? " (input grad)" : "");
      EXPECT_GT(max_abs(plain[i]), 0.0) << "gradient " << i;
    }
  }
}

TEST(Sequential, ConvReluMaxPoolFusionIsTwiceDifferentiable) {
  // create_graph: the gradient is built from the unfused ops, which have VJPs of their own.
  nabla::manual_seed(6);
  nn::Sequential net{nn::Conv2d({.in = 2, .out = 3, .kernel = 3, .padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Flatten(), nn::Linear(3 * 3 * 3, 2)};
  auto second_order = [&](bool fused) {
    Tensor x = nabla::randn({2, 2, 6, 6}).to(nabla::kFloat64);
    net->to(nabla::kFloat64);
    x.requires_grad_(true);
    Tensor y = fused ? net(x) : layer_by_layer(net, x);
    auto gx = nabla::autograd::grad({(y * y).sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true);
    for (auto& p : net->parameters()) p.set_grad({});
    (gx[0] * gx[0]).sum().backward();
    return net->operator[](0)->parameters()[0].grad().to_vector<double>();
  };
  nabla::manual_seed(7);
  std::vector<double> a = second_order(true);
  nabla::manual_seed(7);
  std::vector<double> b = second_order(false);
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-10 * std::max(1.0, std::abs(b[k])));
}

TEST(Sequential, ReluMaxPoolFusionKeepsCeilModeAndDilation) {
  // The fused kernel knows neither option; the pool must still give PyTorch's shapes and values.
  nabla::manual_seed(4);
  for (auto opt : {nn::MaxPool2dImpl::Options{.kernel = 2, .ceil_mode = true},
                   nn::MaxPool2dImpl::Options{.kernel = 3, .stride = 2, .dilation = 2, .ceil_mode = true}}) {
    nn::Sequential net{nn::ReLU(), nn::MaxPool2d(opt)};
    Tensor x = nabla::randn({2, 3, 9, 9});
    Tensor y = net(x);
    Tensor z = nn::MaxPool2d(opt)(F::relu(x));
    ASSERT_EQ(y.shape(), z.shape());
    EXPECT_EQ(y.to_vector<float>(), z.to_vector<float>());
  }
}

TEST(Sequential, FusedLayersStillNameTheFailingLayer) {
  nn::Sequential net{nn::Linear(4, 4), nn::ReLU(), nn::MaxPool2d(2)};
  try {
    net(nabla::randn({2, 4}));  // 2-d: the pool rejects it
    FAIL() << "expected an error";
  } catch (const nabla::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("Sequential[2] (MaxPool2d("), std::string::npos) << msg;
    EXPECT_NE(msg.find("max_pool2d"), std::string::npos) << msg;
  }
}

}  // namespace
