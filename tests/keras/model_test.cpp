// Functional API: several inputs and outputs, shared layers, graph errors, training a
// two-input model, predict_all.
#include <gtest/gtest.h>

#include "nabla/generator.h"
#include "nabla/keras.h"

namespace {
using namespace nabla::keras;
using nabla::Tensor;

double max_abs_diff(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item<double>(); }

class KerasFunctional : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_session();
    nabla::manual_seed(9);
  }
};

TEST_F(KerasFunctional, TwoInputsTwoOutputs) {
  auto img = Input({6, 6, 1}, "img");
  auto meta = Input({3}, "meta");
  auto conv = layers::Conv2D(2, 3, {.activation = "relu"});
  auto flat = layers::Flatten();
  auto d_meta = layers::Dense(4, "relu");
  auto cat = layers::Concatenate();
  auto head_a = layers::Dense(5, "softmax", {.name = "class"});
  auto head_b = layers::Dense(1, "", {.name = "score"});
  auto h = cat({flat(conv(img)), d_meta(meta)});
  Model model({img, meta}, {head_a(h), head_b(h)});
  EXPECT_EQ(model.layers().size(), 8u);
  EXPECT_EQ(model.get_layer("class")->output_shape(), (TensorShape{-1, 5}));
  EXPECT_EQ(model.get_layer("concatenate")->output_shape(), (TensorShape{-1, 36}));

  Tensor xi = nabla::randn({4, 6, 6, 1}), xm = nabla::randn({4, 3});
  auto outs = model.predict_all({xi, xm}, {.batch_size = 3});
  ASSERT_EQ(outs.size(), 2u);
  // Independent: call the same layers eagerly.
  Tensor hh = cat->call_multi({flat(conv(xi)), d_meta(xm)});
  EXPECT_LT(max_abs_diff(outs[0], head_a(hh)), 1e-6);
  EXPECT_LT(max_abs_diff(outs[1], head_b(hh)), 1e-6);
}

TEST_F(KerasFunctional, SharedLayerAndAdd) {
  auto a = Input({4});
  auto b = Input({4});
  auto shared = layers::Dense(3);
  auto s = layers::Add()({shared(a), shared(b)});
  Model model({a, b}, {s});
  EXPECT_EQ(model.count_params(), 15);  // the shared Dense counts once
  Tensor xa = nabla::randn({2, 4}), xb = nabla::randn({2, 4});
  EXPECT_LT(max_abs_diff(model.call({xa, xb})[0], shared(xa) + shared(xb)), 1e-6);
}

TEST_F(KerasFunctional, TrainsAMultiInputModel) {
  auto a = Input({2});
  auto b = Input({2});
  auto h = layers::Concatenate()({a, b});
  Model model({a, b}, {layers::Dense(1, "sigmoid")(layers::Dense(8, "relu")(h))});
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.05}), .loss = "binary_crossentropy",
                 .metrics = {"accuracy"}});
  Tensor xa = nabla::randn({200, 2}), xb = nabla::randn({200, 2});
  Tensor y = nabla::gt(xa.sum({1}, true) - xb.sum({1}, true), nabla::full({}, 0.0)).to(nabla::kFloat32);
  auto hist = model.fit({xa, xb}, y, {.epochs = 20, .batch_size = 20, .verbose = 0,
                                     .validation_data = ValidationData({xa, xb}, y)});
  EXPECT_GT(hist.history["accuracy"].back(), 0.9);
  auto r = model.evaluate({xa, xb}, y, {.verbose = 0});
  EXPECT_NEAR(r["accuracy"], hist.history["val_accuracy"].back(), 1e-12);
}

TEST_F(KerasFunctional, GraphErrors) {
  auto a = Input({4});
  auto b = Input({4});
  auto out = layers::Dense(2)(layers::Add()({a, b}));
  try {
    Model m({a}, {out});
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("which is not among the model's inputs"), std::string::npos) << e.what();
  }
  try {
    layers::Add()({a, Input({5})});
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("Add 'add_1': expected inputs of equal shape, received (None, 4) and (None, 5)"),
              std::string::npos)
        << e.what();
  }
  try {
    layers::Conv2D(2, 3)(a);
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("Conv2D 'conv2d': expected a 4-d input"), std::string::npos) << e.what();
  }
  Model m({a, b}, {out});
  EXPECT_THROW(m.call({nabla::zeros({2, 4})}), nabla::Error);
}

}  // namespace
