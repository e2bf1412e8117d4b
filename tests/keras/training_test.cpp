// compile / fit / evaluate / predict: fit equals a hand-written loop with the same seed,
// validation_split holds out the LAST fraction, History's val_* equal evaluate(), class weights,
// the fused softmax + cross-entropy is stable, predict batches, train_on_batch, DataLoader and
// Pipeline inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/autograd.h"
#include "nabla/data/data_loader.h"
#include "nabla/data/pipeline.h"
#include "nabla/data/tensor_dataset.h"
#include "nabla/generator.h"
#include "nabla/keras.h"
#include "nabla/nn/functional.h"
#include "nabla/optim/adam.h"

namespace {
using namespace nabla::keras;
using nabla::Tensor;

class KerasTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_session();
    nabla::manual_seed(7);
    x = nabla::randn({120, 6});
    Tensor w = nabla::randn({6, 3});
    labels = nabla::matmul(x, w).argmax(1);  // a learnable 3-class problem
    onehot = utils::to_categorical(labels, 3);
  }
  Tensor x, labels, onehot;
};

Sequential mlp(const std::string& out_activation = "softmax") {
  return Sequential({layers::Dense(16, "relu", {.input_shape = {6}}), layers::Dense(3, out_activation)});
}

double max_abs_diff(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST_F(KerasTraining, FitEqualsHandWrittenLoop) {
  // The same initial weights in both models.
  nabla::manual_seed(1);
  auto keras_model = mlp("linear");
  nabla::manual_seed(1);
  auto hand_model = mlp("linear");
  ASSERT_EQ(max_abs_diff(keras_model.get_weights()[0], hand_model.get_weights()[0]), 0.0);

  keras_model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.01}),
                       .loss = losses::SparseCategoricalCrossentropy({.from_logits = true})});
  keras_model.fit(x, labels, {.epochs = 3, .batch_size = 16, .verbose = 0, .seed = 42});

  // The loop a PyTorch user writes, over the same public APIs.
  nabla::data::DataLoader loader(nabla::data::TensorDataset(x, labels),
                                 {.batch_size = 16, .shuffle = true, .num_workers = 1, .seed = 42});
  nabla::optim::Adam opt(hand_model.parameters(), {.lr = 0.01, .eps = 1e-7});
  hand_model.train();
  for (int epoch = 0; epoch < 3; ++epoch)
    for (auto& [data, target] : loader) {
      opt.zero_grad();
      auto loss = nabla::F::cross_entropy(hand_model(data), target);
      loss.backward();
      opt.step();
    }
  auto a = keras_model.get_weights(), b = hand_model.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_LT(max_abs_diff(a[i], b[i]), 1e-6) << "weight " << i;
  // And training moved the weights at all.
  nabla::manual_seed(1);
  auto fresh = mlp("linear");
  EXPECT_GT(max_abs_diff(a[0], fresh.get_weights()[0]), 1e-3);
}

TEST_F(KerasTraining, FitLearnsAndHistoryHasEveryEpoch) {
  auto model = mlp();
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 0.02}),
                 .loss = "categorical_crossentropy",
                 .metrics = {"accuracy"}});
  auto h = model.fit(x, onehot, {.epochs = 30, .batch_size = 16, .verbose = 0});
  ASSERT_EQ(h.history["loss"].size(), 30u);
  ASSERT_EQ(h.history["accuracy"].size(), 30u);
  EXPECT_EQ(h.epoch.front(), 0);
  EXPECT_EQ(h.epoch.back(), 29);
  EXPECT_LT(h.history["loss"].back(), 0.5 * h.history["loss"].front());
  EXPECT_GT(h.history["accuracy"].back(), 0.85);
}

TEST_F(KerasTraining, ValidationSplitTakesTheLastFractionAndMatchesEvaluate) {
  auto model = mlp();
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  int64_t seen = 0;
  auto counter = std::make_shared<callbacks::LambdaCallback>(callbacks::LambdaCallback::Options{
      .on_train_batch_begin = [&](int64_t, Logs&) {}, .on_train_batch_end = [&](int64_t, Logs&) { ++seen; }});
  auto h = model.fit(
      x, onehot,
      {.epochs = 2, .batch_size = 10, .verbose = 0, .callbacks = {counter}, .validation_split = 0.25});
  // 120 samples: the first 90 train (9 batches of 10 per epoch), the last 30 validate.
  EXPECT_EQ(seen, 18);
  auto last = model.evaluate(x.narrow(0, 90, 30), onehot.narrow(0, 90, 30), {.verbose = 0});
  EXPECT_NEAR(h.history["val_loss"].back(), last["loss"], 1e-9);
  EXPECT_NEAR(h.history["val_accuracy"].back(), last["accuracy"], 1e-12);
  auto first = model.evaluate(x.narrow(0, 0, 30), onehot.narrow(0, 0, 30), {.verbose = 0});
  EXPECT_NE(h.history["val_loss"].back(), first["loss"]);
}

TEST_F(KerasTraining, HistoryValuesEqualEvaluateForTheSameWeights) {
  auto model = mlp();
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy", "mse"}});
  Tensor xv = nabla::randn({33, 6}), yv = utils::to_categorical(nabla::randint(0, 3, {33}), 3);
  auto h = model.fit(x, onehot, {.epochs = 2, .batch_size = 8, .verbose = 0, .validation_data = {{xv, yv}}});
  // batch_size 5 for evaluate: the per-sample mean does not depend on the batching.
  auto r = model.evaluate(xv, yv, {.batch_size = 5, .verbose = 0});
  EXPECT_NEAR(h.history["val_loss"].back(), r["loss"], 1e-6);
  EXPECT_NEAR(h.history["val_accuracy"].back(), r["accuracy"], 1e-12);
  EXPECT_NEAR(h.history["val_mse"].back(), r["mse"], 1e-7);
  // evaluate's loss is the per-sample mean of the loss (independent computation).
  Tensor p = model.predict(xv).clamp(nabla::Scalar(1e-7), nabla::Scalar(1 - 1e-7));
  double want = -(yv * p.log()).sum({1}).mean().item<double>();
  EXPECT_NEAR(r["loss"], want, 1e-5);
}

TEST_F(KerasTraining, FusedSoftmaxCrossEntropyIsStable) {
  // A saturated softmax: probabilities are exactly 0 and 1 in float32, so log(p) would be -inf.
  auto model = Sequential({layers::Dense(2, "softmax", {.input_shape = {1}})});
  model.set_weights({nabla::tensor({1000.0f, -1000.0f}, nabla::kFloat32).reshape({1, 2}), nabla::zeros({2})});
  model.compile({.optimizer = "sgd", .loss = "categorical_crossentropy"});
  Tensor xb = nabla::ones({4, 1}), yb = utils::to_categorical(nabla::tensor<int64_t>({1, 1, 1, 1}), 2);
  auto logs = model.train_on_batch(xb, yb);
  // Exact value from the logits: log(1 + e^-2000) + 2000 = 2000.
  EXPECT_NEAR(logs["loss"], 2000.0, 1e-2);
  for (auto& w : model.get_weights()) EXPECT_TRUE(std::isfinite(w.abs().max().item<double>()));
  // Unfused (the loss is given probabilities) Keras clips at 1e-7 instead: -log(1e-7).
  EXPECT_NEAR(losses::CategoricalCrossentropy()(yb, model.predict(xb)).item<double>(), -std::log(1e-7), 1e-3);
}

TEST_F(KerasTraining, ClassWeightScalesTheLoss) {
  auto model = mlp();
  model.compile(
      {.optimizer = optimizers::SGD({.learning_rate = 0.0}), .loss = "sparse_categorical_crossentropy"});
  auto h = model.fit(
      x, labels,
      {.epochs = 1, .batch_size = 120, .verbose = 0, .shuffle = false, .class_weight = {{0, 2.0}, {2, 0.5}}});
  Tensor p = model.predict(x);
  Tensor per = -(onehot * p.clamp(nabla::Scalar(1e-7), nabla::Scalar(1 - 1e-7)).log()).sum({1});
  Tensor w = nabla::index_select(nabla::tensor({2.0f, 1.0f, 0.5f}), 0, labels);  // class 1 not listed: 1
  double want = (per * w).mean().item<double>();                                 // Keras: sum(w * l) / N
  EXPECT_NEAR(h.history["loss"][0], want, 1e-5);
}

TEST_F(KerasTraining, PredictBatchesLikeOneBatch) {
  auto model = mlp();
  Tensor all = model.predict_on_batch(x);
  Tensor batched = model.predict(x, {.batch_size = 7});
  EXPECT_EQ(batched.shape(), (nabla::Shape{120, 3}));
  EXPECT_LT(max_abs_diff(all, batched), 1e-6);
  EXPECT_LT(max_abs_diff(all.sum({1}), nabla::ones({120})), 1e-5);  // softmax rows
}

TEST_F(KerasTraining, TrainOnBatchStepsOnce) {
  auto model = mlp();
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1}),
                 .loss = "categorical_crossentropy",
                 .metrics = {"accuracy"}});
  auto before = model.get_weights();
  auto logs = model.train_on_batch(x.narrow(0, 0, 8), onehot.narrow(0, 0, 8));
  EXPECT_TRUE(logs.count("loss") && logs.count("accuracy"));
  EXPECT_GT(max_abs_diff(before[0], model.get_weights()[0]), 0.0);
  auto t = model.test_on_batch(x.narrow(0, 0, 8), onehot.narrow(0, 0, 8));
  EXPECT_LT(t["loss"], logs["loss"] + 1.0);
}

TEST_F(KerasTraining, FitFromDataLoaderAndPipeline) {
  auto model = mlp();
  model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  nabla::data::DataLoader loader(nabla::data::TensorDataset(x, labels), {.batch_size = 16, .shuffle = true});
  auto h = model.fit(loader, {.epochs = 3, .verbose = 0, .validation_data = {{x, labels}}});
  EXPECT_EQ(h.history["val_loss"].size(), 3u);
  auto p = nabla::data::Pipeline::from_tensors(x, labels).shuffle(120, 3).batch(16);
  auto h2 = model.fit(p, {.epochs = 2, .verbose = 0});
  EXPECT_EQ(h2.history["loss"].size(), 2u);
  EXPECT_LT(h2.history["loss"].back(), h.history["loss"].front());
  // A model without an input shape builds from the loader's first example.
  auto lazy = Sequential({layers::Dense(3, "softmax")});
  lazy.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  lazy.fit(loader, {.epochs = 1, .verbose = 0});
  EXPECT_EQ(lazy.layers()[0]->input_shapes()[0], (TensorShape{-1, 6}));
}

TEST_F(KerasTraining, InitialEpochAndEpochNumbers) {
  auto model = mlp();
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy"});
  auto h = model.fit(x, onehot, {.epochs = 5, .verbose = 0, .initial_epoch = 3});
  EXPECT_EQ(h.epoch, (std::vector<int>{3, 4}));
}

TEST_F(KerasTraining, ErrorsNameTheProblem) {
  auto model = mlp();
  EXPECT_THROW(model.fit(x, onehot), nabla::Error);  // not compiled
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy"});
  try {
    model.fit(nabla::randn({10, 5}), onehot.narrow(0, 0, 10), {.verbose = 0});
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected input 0 of shape (None, 6), received (10, 5)"),
              std::string::npos)
        << e.what();
  }
  try {
    model.fit(x, labels, {.verbose = 0});  // integer labels with categorical_crossentropy
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("categorical_crossentropy"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model.compile({.optimizer = "adamax", .loss = "mse"}), nabla::Error);
  EXPECT_THROW(model.compile({.optimizer = "adam", .loss = "hinge"}), nabla::Error);
}

}  // namespace
