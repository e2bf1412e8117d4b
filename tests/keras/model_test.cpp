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
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.05}),
                 .loss = "binary_crossentropy",
                 .metrics = {"accuracy"}});
  Tensor xa = nabla::randn({200, 2}), xb = nabla::randn({200, 2});
  Tensor y = nabla::gt(xa.sum({1}, true) - xb.sum({1}, true), nabla::full({}, 0.0)).to(nabla::kFloat32);
  auto hist = model.fit(
      {xa, xb}, y,
      {.epochs = 20, .batch_size = 20, .verbose = 0, .validation_data = ValidationData({xa, xb}, y)});
  EXPECT_GT(hist.history["accuracy"].back(), 0.9);
  auto r = model.evaluate({xa, xb}, y, {.verbose = 0});
  EXPECT_NEAR(r["accuracy"], hist.history["val_accuracy"].back(), 1e-12);
}

TEST_F(KerasFunctional, TrainsATwoOutputModel) {
  // A shared trunk with a classification head (softmax, fused loss) and a regression head.
  auto in = Input({4});
  auto h = layers::Dense(16, "relu")(in);
  auto cls = layers::Dense(3, "softmax", {.name = "cls"})(h);
  auto reg = layers::Dense(1, "", {.name = "reg"})(h);
  Model model({in}, {cls, reg});
  EXPECT_THROW(model.compile({.optimizer = "adam", .losses = {"mse"}}), nabla::Error);  // 1 loss, 2 outputs
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.02}),
                 .losses = {"sparse_categorical_crossentropy", "mse"},
                 .loss_weights = {1.0, 0.5},
                 .metrics = {"accuracy"}});
  Tensor x = nabla::randn({240, 4});
  Tensor y_cls = nabla::matmul(x, nabla::randn({4, 3})).argmax(1);
  Tensor y_reg = x.sum({1}, true);
  auto hist = model.fit(
      {x}, {y_cls, y_reg},
      {.epochs = 25, .batch_size = 24, .verbose = 0, .validation_data = ValidationData({x}, {y_cls, y_reg})});
  EXPECT_EQ(model.metrics_names(),
            (std::vector<std::string>{"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_accuracy"}));
  EXPECT_GT(hist.history["cls_accuracy"].back(), 0.85);
  EXPECT_LT(hist.history["reg_loss"].back(), 0.2 * hist.history["reg_loss"].front());
  // The total is the weighted sum of the outputs' losses, and val_* equal evaluate().
  auto r = model.evaluate({x}, {y_cls, y_reg}, {.verbose = 0});
  EXPECT_NEAR(r["loss"], r["cls_loss"] + 0.5 * r["reg_loss"], 1e-5);
  EXPECT_NEAR(r["loss"], hist.history["val_loss"].back(), 1e-6);
  // Independent check of cls_loss from predictions.
  auto outs = model.predict_all({x});
  Tensor p = outs[0].clamp(nabla::Scalar(1e-7), nabla::Scalar(1 - 1e-7));
  double ce = -(utils::to_categorical(y_cls, 3) * p.log()).sum({1}).mean().item<double>();
  EXPECT_NEAR(r["cls_loss"], ce, 1e-5);
  double mse = ((outs[1] - y_reg) * (outs[1] - y_reg)).mean().item<double>();
  EXPECT_NEAR(r["reg_loss"], mse, 1e-5);
}

TEST_F(KerasFunctional, GraphErrors) {
  auto a = Input({4});
  auto b = Input({4});
  auto out = layers::Dense(2)(layers::Add()({a, b}));
  try {
    Model m({a}, {out});
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("which is not among the model's inputs"), std::string::npos)
        << e.what();
  }
  try {
    layers::Add()({a, Input({5})});
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "Add 'add_1': expected inputs of equal shape, received (None, 4) and (None, 5)"),
              std::string::npos)
        << e.what();
  }
  try {
    layers::Conv2D(2, 3)(a);
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("Conv2D 'conv2d': expected a 4-d input"), std::string::npos)
        << e.what();
  }
  Model m({a, b}, {out});
  EXPECT_THROW(m.call({nabla::zeros({2, 4})}), nabla::Error);
}

}  // namespace
