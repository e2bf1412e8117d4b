// Keras layers against nabla's NCHW ops and nn modules (independently computed here): Conv2D in
// NHWC with "valid" and TensorFlow's "same" padding, pooling, global pooling, Dense/Conv2D
// weight layouts, Keras initialisers, BatchNormalization momentum/epsilon, Embedding, Reshape.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/autograd.h"
#include "nabla/generator.h"
#include "nabla/keras.h"
#include "nabla/nn/functional.h"

namespace {
using namespace nabla::keras;
using nabla::Tensor;

double max_abs_diff(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item<double>(); }
Tensor nchw(const Tensor& x) { return x.permute({0, 3, 1, 2}).contiguous(); }
Tensor nhwc(const Tensor& x) { return x.permute({0, 2, 3, 1}).contiguous(); }

class KerasLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_session();
    nabla::manual_seed(21);
  }
};

TEST_F(KerasLayers, Conv2DValidIsConv2dInChannelsLast) {
  auto conv = layers::Conv2D(5, 3, {.activation = "relu"});
  Tensor x = nabla::randn({2, 9, 8, 3});
  Tensor y = conv(x);
  ASSERT_EQ(y.shape(), (nabla::Shape{2, 7, 6, 5}));
  Tensor want = nhwc(nabla::relu(nabla::conv2d(nchw(x), conv->conv->weight, conv->conv->bias)));
  EXPECT_LT(max_abs_diff(y, want), 1e-5);
}

TEST_F(KerasLayers, Conv2DSamePaddingFollowsTensorFlow) {
  // Stride 2 on 8x7 with a 4x3 kernel: out = ceil(in / 2) = (4, 4); pads: height total
  // (4-1)*2+4-8 = 2 -> (1, 1); width total (4-1)*2+3-7 = 2 -> (1, 1). And 3x3 stride 2 on 8x8:
  // total 1 -> (0 top, 1 bottom): the asymmetric case.
  auto a = layers::Conv2D(2, {4, 3}, {.strides = 2, .padding = "same"});
  Tensor x = nabla::randn({1, 8, 7, 3});
  Tensor ya = a(x);
  ASSERT_EQ(ya.shape(), (nabla::Shape{1, 4, 4, 2}));
  nabla::Conv2dOptions o;
  o.stride[0] = o.stride[1] = 2;
  Tensor wa = nhwc(nabla::conv2d(nabla::pad(nchw(x), {1, 1, 1, 1}), a->conv->weight, a->conv->bias, o));
  EXPECT_LT(max_abs_diff(ya, wa), 1e-5);

  auto b = layers::Conv2D(2, 3, {.strides = 2, .padding = "same"});
  Tensor x8 = nabla::randn({1, 8, 8, 1});
  Tensor yb = b(x8);
  ASSERT_EQ(yb.shape(), (nabla::Shape{1, 4, 4, 2}));
  Tensor wb = nhwc(nabla::conv2d(nabla::pad(nchw(x8), {0, 1, 0, 1}), b->conv->weight, b->conv->bias, o));
  EXPECT_LT(max_abs_diff(yb, wb), 1e-5);
}

TEST_F(KerasLayers, PoolingValidAndSame) {
  Tensor x = nabla::randn({2, 5, 5, 3});
  Tensor mp = layers::MaxPooling2D(2)(x);
  ASSERT_EQ(mp.shape(), (nabla::Shape{2, 2, 2, 3}));
  EXPECT_LT(max_abs_diff(mp, nhwc(nabla::max_pool2d(nchw(x)))), 1e-7);
  // "same" on 5x5 with 2x2 windows: out 3x3, the last row/column pads (ignored by max, not
  // counted by the average: the last window of a row averages 2 cells).
  Tensor ms = layers::MaxPooling2D(2, {.padding = "same"})(x);
  ASSERT_EQ(ms.shape(), (nabla::Shape{2, 3, 3, 3}));
  EXPECT_DOUBLE_EQ(ms.index({{0, 1}, {2, 3}, {2, 3}, {0, 1}}).item<double>(),
                   x.index({{0, 1}, {4, 5}, {4, 5}, {0, 1}}).item<double>());
  Tensor as = layers::AveragePooling2D(2, {.padding = "same"})(x);
  double want = (x.index({{0, 1}, {0, 2}, {4, 5}, {1, 2}}).sum()).item<double>() / 2;
  EXPECT_NEAR(as.index({{0, 1}, {0, 1}, {2, 3}, {1, 2}}).item<double>(), want, 1e-6);
  Tensor gap = layers::GlobalAveragePooling2D()(x);
  EXPECT_LT(max_abs_diff(gap, x.mean({1, 2})), 1e-6);
}

TEST_F(KerasLayers, ConvStackMatchesPerLayerCalls) {
  // Inside a model image layers stay channels-first; the result must equal layer-by-layer calls.
  auto c1 = layers::Conv2D(4, 3, {.padding = "same", .activation = "relu", .input_shape = {6, 6, 2}});
  auto p = layers::MaxPooling2D(2);
  auto bn = layers::BatchNormalization();
  auto f = layers::Flatten();
  auto d = layers::Dense(3);
  auto model = Sequential({c1, p, bn, f, d});
  model.eval();
  Tensor x = nabla::randn({3, 6, 6, 2});
  Tensor want = d(f(bn(p(c1(x)))));
  EXPECT_LT(max_abs_diff(model.predict(x), want), 1e-5);
  // Flatten uses Keras's (H, W, C) order.
  Tensor h = bn(p(c1(x)));
  EXPECT_LT(max_abs_diff(f(h), h.reshape({3, -1})), 0.0 + 1e-7);
}

TEST_F(KerasLayers, WeightsInKerasLayouts) {
  auto model = Sequential(
      {layers::Conv2D(4, {3, 2}, {.input_shape = {5, 5, 2}}), layers::Flatten(), layers::Dense(7)});
  auto w = model.get_weights();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].shape(), (nabla::Shape{3, 2, 2, 4}));  // (kh, kw, in, out)
  EXPECT_EQ(w[1].shape(), (nabla::Shape{4}));
  EXPECT_EQ(w[2].shape(), (nabla::Shape{3 * 4 * 4, 7}));  // (in, units)
  // set_weights round-trips and reaches the nn modules.
  for (auto& t : w) t = nabla::randn(t.shape());
  model.set_weights(w);
  auto back = model.get_weights();
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(max_abs_diff(w[i], back[i]), 0.0);
  auto dense = std::dynamic_pointer_cast<layers::DenseImpl>(model.layers()[2]);
  EXPECT_EQ(max_abs_diff(dense->linear->weight, w[2].t()), 0.0);
  try {
    w[2] = nabla::zeros({7, 48});
    model.set_weights(w);
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 'dense' weight 0 expected shape [48, 7], received [7, 48]"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(KerasLayers, KerasInitialisers) {
  auto d = layers::Dense(300, "", {.input_shape = {200}});
  Sequential m({d});
  // glorot_uniform: U(-b, b), b = sqrt(6 / (200 + 300)); zero bias.
  const double b = std::sqrt(6.0 / 500.0);
  Tensor w = d->linear->weight;
  EXPECT_LE(w.abs().max().item<double>(), b);
  EXPECT_GT(w.abs().max().item<double>(), 0.98 * b);
  EXPECT_NEAR(nabla::var(w.to(nabla::kFloat64)).item<double>(), b * b / 3, 0.05 * b * b / 3);
  EXPECT_EQ(d->linear->bias.abs().max().item<double>(), 0.0);
  auto e = layers::Embedding(50, 8);
  EXPECT_LE(e->embedding->weight.abs().max().item<double>(), 0.05);
}

TEST_F(KerasLayers, BatchNormalizationUsesKerasMomentumAndEpsilon) {
  auto bn = layers::BatchNormalization();
  Tensor x = nabla::randn({16, 4}) * 3.0 + 2.0;
  bn->train();
  Tensor y = bn(x);
  // Training: (x - mean) / sqrt(var_biased + 1e-3).
  Tensor mean = x.mean({0}, true), var = nabla::var(x, {0}, 0, true);
  EXPECT_LT(max_abs_diff(y, (x - mean) / (var + 1e-3).sqrt()), 1e-4);
  // moving_mean = 0.99 * 0 + 0.01 * batch mean.
  auto bn_impl = std::dynamic_pointer_cast<nabla::nn::BatchNorm1dImpl>(bn->bn);
  ASSERT_TRUE(bn_impl);
  EXPECT_LT(max_abs_diff(bn_impl->running_mean, mean.reshape({4}) * 0.01), 1e-6);
  EXPECT_DOUBLE_EQ(bn_impl->options.eps, 1e-3);
}

TEST_F(KerasLayers, EmbeddingReshapeActivation) {
  auto e = layers::Embedding(10, 3);
  Tensor idx = nabla::tensor<int64_t>({1, 4, 4, 9}).reshape({2, 2});
  Tensor v = e(idx);
  EXPECT_EQ(v.shape(), (nabla::Shape{2, 2, 3}));
  EXPECT_EQ(max_abs_diff(v[1][0], e->embedding->weight[4]), 0.0);
  EXPECT_EQ(layers::Reshape({3, -1})(nabla::zeros({2, 12})).shape(), (nabla::Shape{2, 3, 4}));
  Tensor z = nabla::randn({2, 5});
  EXPECT_LT(max_abs_diff(layers::Activation("softmax")(z), nabla::softmax(z, -1)), 1e-7);
  EXPECT_LT(max_abs_diff(layers::Activation("selu")(nabla::full({1}, -1.0)),
                         nabla::full({1}, 1.0507009873554805 * 1.6732632423543772 * (std::exp(-1.0) - 1))),
            1e-6);
}

TEST_F(KerasLayers, FrozenLayerIsNotTrained) {
  auto first = layers::Dense(4, "relu", {.input_shape = {3}});
  auto model = Sequential({first, layers::Dense(2)});
  first->set_trainable(false);
  EXPECT_EQ(first->count_trainable_params(), 0);
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.5}), .loss = "mse"});
  Tensor before = model.get_weights()[0];
  model.fit(nabla::randn({8, 3}), nabla::randn({8, 2}), {.epochs = 2, .verbose = 0});
  EXPECT_EQ(max_abs_diff(before, model.get_weights()[0]), 0.0);
  EXPECT_NE(model.summary_string().find("Non-trainable params: 16 (64.00 B)"), std::string::npos);
}

}  // namespace
