// nn::Sequential's ReLU + MaxPool2d fusion (src/nn/container.cpp): the fused forward and backward
// give exactly what the layers give one by one, and errors still name the failing layer.
#include <gtest/gtest.h>

#include "nabla/nabla.h"
#include "nabla/nn.h"

namespace {
using nabla::Tensor;
namespace nn = nabla::nn;
namespace F = nabla::F;

TEST(Sequential, ReluMaxPoolFusionGivesTheLayerByLayerResult) {
  nabla::manual_seed(3);
  nn::Sequential net{nn::Conv2d({.in = 2, .out = 8, .kernel = 3, .padding = 1}),
                     nn::ReLU(),
                     nn::MaxPool2d(2),
                     nn::Conv2d({.in = 8, .out = 4, .kernel = 3, .padding = 1}),
                     nn::ReLU(),
                     nn::MaxPool2d({.kernel = 3, .stride = 2, .padding = 1}),
                     nn::Flatten(),
                     nn::Linear(4 * 4 * 4, 3)};
  Tensor x = nabla::randn({5, 2, 14, 14});
  Tensor y = net(x);
  // The same layers called one at a time (no fusion).
  Tensor z = x;
  for (size_t i = 0; i < net->size(); ++i) z = net->operator[](i)->forward(z);
  ASSERT_EQ(y.shape(), z.shape());
  EXPECT_EQ(y.to_vector<float>(), z.to_vector<float>());

  auto grads = [&](const Tensor& out) {
    for (auto& p : net->parameters()) p.set_grad({});
    (out * out).sum().backward();
    std::vector<std::vector<float>> g;
    for (auto& p : net->parameters()) g.push_back(p.grad().to_vector<float>());
    return g;
  };
  auto fused = grads(y), plain = grads(z);
  ASSERT_EQ(fused.size(), plain.size());
  for (size_t i = 0; i < fused.size(); ++i) EXPECT_EQ(fused[i], plain[i]) << "parameter " << i;
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
