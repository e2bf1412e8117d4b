// Sequential: shapes known at construction, build-time errors naming the layer, its index, the
// expected and the received shape, and building on the first call.
#include <gtest/gtest.h>

#include <algorithm>

#include "autograd/node.h"
#include "nabla/autograd.h"
#include "nabla/keras.h"

namespace {
using namespace nabla::keras;

class KerasSequential : public ::testing::Test {
 protected:
  void SetUp() override { clear_session(); }
};

/// The message of the nabla::Error thrown by fn ("" if none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const nabla::Error& e) {
    return e.what();
  }
  return "";
}

TEST_F(KerasSequential, ShapesKnownAtConstruction) {
  auto model = Sequential({
      layers::Conv2D(8, 3, {.input_shape = {28, 28, 1}}),
      layers::MaxPooling2D(2),
      layers::Conv2D(4, {3, 5}, {.strides = 2, .padding = "same"}),
      layers::Flatten(),
      layers::Dense(10),
  });
  EXPECT_TRUE(model.built());
  EXPECT_EQ(model.layers()[0]->output_shape(), (TensorShape{-1, 26, 26, 8}));
  EXPECT_EQ(model.layers()[1]->output_shape(), (TensorShape{-1, 13, 13, 8}));
  EXPECT_EQ(model.layers()[2]->output_shape(), (TensorShape{-1, 7, 7, 4}));
  EXPECT_EQ(model.layers()[3]->output_shape(), (TensorShape{-1, 196}));
  EXPECT_EQ(model.output_shape(), (TensorShape{-1, 10}));
  // The real forward pass agrees with the inferred shapes.
  auto y = model.predict(nabla::rand({2, 28, 28, 1}));
  EXPECT_EQ(y.shape(), (nabla::Shape{2, 10}));
}

TEST_F(KerasSequential, InputFirstBuildsToo) {
  auto model = Sequential({Input({16}), layers::Dense(4)});
  EXPECT_TRUE(model.built());
  EXPECT_EQ(model.layers().size(), 1u);  // Keras's Sequential does not list the InputLayer
  EXPECT_EQ(model.output_shape(), (TensorShape{-1, 4}));
}

TEST_F(KerasSequential, ConvAfterDenseFailsAtConstruction) {
  std::string msg = error_of([] {
    Sequential({layers::Dense(64, "relu", {.input_shape = {784}}), layers::Conv2D(8, 3)});
  });
  EXPECT_NE(msg.find("layer 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'conv2d'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Conv2D"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected a 4-d input (batch, height, width, channels)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("received input shape (None, 64)"), std::string::npos) << msg;
}

TEST_F(KerasSequential, PoolLargerThanImageFails) {
  std::string msg = error_of([] {
    Sequential({layers::Conv2D(4, 3, {.input_shape = {4, 4, 1}}), layers::MaxPooling2D(3)});
  });
  EXPECT_NE(msg.find("layer 1 'max_pooling2d' (MaxPooling2D)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("pool_size (3, 3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(None, 2, 2, 4)"), std::string::npos) << msg;
}

TEST_F(KerasSequential, ReshapeMismatchFails) {
  std::string msg = error_of([] {
    Sequential({layers::Dense(10, "", {.input_shape = {3}}), layers::Reshape({3, 3})});
  });
  EXPECT_NE(msg.find("layer 1 'reshape' (Reshape)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("9 values per sample"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(None, 10)"), std::string::npos) << msg;
}

TEST_F(KerasSequential, AddChecksAgainstTheBuiltShape) {
  Sequential model;
  model.add(layers::Dense(8, "", {.input_shape = {4}}));
  model.add(layers::Flatten());
  std::string msg = error_of([&] { model.add(layers::MaxPooling2D(2)); });
  EXPECT_NE(msg.find("layer 2 'max_pooling2d'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("received input shape (None, 8)"), std::string::npos) << msg;
  EXPECT_EQ(model.layers().size(), 2u);  // the failed layer is not kept
}

TEST_F(KerasSequential, ReusedDenseRejectsOtherWidth) {
  auto shared = layers::Dense(3);
  auto a = Sequential({layers::Dense(5, "", {.input_shape = {2}}), shared});
  std::string msg = error_of([&] { Sequential({layers::Dense(6, "", {.input_shape = {2}}), shared}); });
  EXPECT_NE(msg.find("expected last dimension 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(None, 6)"), std::string::npos) << msg;
}

TEST_F(KerasSequential, BuildsOnFirstCallAndChecksLaterInputs) {
  auto model = Sequential({layers::Dense(4, "relu"), layers::Dense(2)});
  EXPECT_FALSE(model.built());
  auto y = model(nabla::rand({3, 7}));
  EXPECT_TRUE(model.built());
  EXPECT_EQ(y.shape(), (nabla::Shape{3, 2}));
  EXPECT_EQ(model.layers()[0]->input_shapes()[0], (TensorShape{-1, 7}));
  std::string msg = error_of([&] { model(nabla::rand({3, 8})); });
  EXPECT_NE(msg.find("expected input 0 of shape (None, 7), received (3, 8)"), std::string::npos) << msg;
}

TEST_F(KerasSequential, BadOptionsAreErrors) {
  EXPECT_NE(error_of([] { layers::Dense(4, "relu6x"); }).find("unknown activation 'relu6x'"),
            std::string::npos);
  EXPECT_NE(error_of([] { layers::Conv2D(4, 3, {.padding = "full"}); }).find("padding must be"),
            std::string::npos);
  EXPECT_NE(error_of([] { layers::Dropout(1.5); }).find("rate must be in [0, 1)"), std::string::npos);
  EXPECT_NE(error_of([] {
              Sequential({layers::Dense(4, "", {.input_shape = {3}, .name = "fc"}),
                          layers::Dense(4, "", {.name = "fc"})});
            }).find("two layers are named 'fc'"),
            std::string::npos);
}

TEST_F(KerasSequential, LayerNamesCountPerType) {
  auto model = Sequential({layers::Dense(4, "", {.input_shape = {3}}), layers::Dense(4), layers::Dropout(0.1),
                           layers::Dense(2, "", {.name = "head"})});
  EXPECT_EQ(model.layers()[0]->layer_name(), "dense");
  EXPECT_EQ(model.layers()[1]->layer_name(), "dense_1");
  EXPECT_EQ(model.layers()[2]->layer_name(), "dropout");
  EXPECT_EQ(model.get_layer("head")->type(), "Dense");
  EXPECT_EQ(model.model_name(), "sequential");
  EXPECT_EQ(Sequential().model_name(), "sequential_1");
}

}  // namespace

namespace {
// Conv2D(activation="relu") then MaxPooling2D. Eagerly, with a "valid" pool window and a conv
// whose padding the conv op applies itself, Sequential runs all three as one
// conv2d_relu_max_pool2d: values exactly those of the layers run one by one (conv + ReLU, then max
// pool), gradients equal up to float rounding (the winners-only backward sums in another order).
// A pool window that needs padding (9x9 or 7x7 maps, 2x2 "same" windows) takes the unfused path
// (conv, then ReLU and the padded pool), exact.
std::vector<std::string> recorded_ops(const nabla::Tensor& out) {
  std::vector<std::string> names;
  std::vector<std::shared_ptr<nabla::autograd::Node>> todo{out.grad_fn()};
  while (!todo.empty()) {
    auto node = todo.back();
    todo.pop_back();
    if (!node) continue;
    names.push_back(nabla::autograd::node_name(*node));
    for (const auto& e : node->next) todo.push_back(e.fn);
  }
  return names;
}

TEST(KerasSequentialReluPool, MatchesTheLayersOneByOne) {
  struct Case {
    const char* conv_padding;
    const char* pool_padding;
    bool fused;
  };
  for (const Case& c : {Case{"valid", "valid", true}, Case{"same", "valid", true}, Case{"valid", "same", false},
                        Case{"same", "same", false}}) {
    const std::string label = std::string("conv ") + c.conv_padding + ", pool " + c.pool_padding;
    clear_session();
    nabla::manual_seed(7);
    auto conv = layers::Conv2D(6, 3, {.padding = c.conv_padding, .activation = "relu", .input_shape = {9, 9, 3}});
    auto pool = layers::MaxPooling2D(2, {.padding = c.pool_padding});
    auto model = Sequential({conv, pool});
    nabla::Tensor x = nabla::randn({2, 9, 9, 3});
    nabla::Tensor merged = model.forward(x);
    const auto ops = recorded_ops(merged);
    const bool has_fused = std::count(ops.begin(), ops.end(), "conv2d_relu_max_pool2d") == 1;
    EXPECT_EQ(has_fused, c.fused) << label;
    nabla::Tensor w = nabla::randn(merged.shape());
    (merged * w).sum().backward();
    std::vector<nabla::Tensor> g_merged;
    for (auto& p : model.parameters()) g_merged.push_back(p.grad().clone()), p.impl()->grad.reset();
    nabla::Tensor ref = pool->forward(conv->forward(x));
    (ref * w).sum().backward();
    ASSERT_EQ(merged.shape(), ref.shape()) << label;
    EXPECT_EQ((merged - ref).abs().max().item<float>(), 0.0f) << label;
    auto params = model.parameters();
    ASSERT_EQ(params.size(), g_merged.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const float scale = std::max(1.0f, params[i].grad().abs().max().item<float>());
      const float tol = c.fused ? 1e-5f * scale : 0.0f;
      EXPECT_LE((params[i].grad() - g_merged[i]).abs().max().item<float>(), tol) << label << " param " << i;
    }
  }
}
}  // namespace
