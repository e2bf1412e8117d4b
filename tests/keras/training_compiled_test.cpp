// Keras graph mode (the default; run_eagerly = true switches it off): a compiled fit gives the same
// History and weights as the eager fit of the same model and seed (partial last batch, sample and
// class weights, metrics, validation, BatchNorm statistics), the learning rate is read at run time
// (LearningRateScheduler, ReduceLROnPlateau), set_weights / restore_best_weights reach the graph,
// and a model the graph cannot express (Dropout in training) runs eagerly with the same results.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "nabla/generator.h"
#include "nabla/keras.h"
#include "nabla/optim/adagrad.h"

namespace {
using namespace nabla::keras;
using nabla::Tensor;

class KerasCompiled : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_session();
    nabla::manual_seed(7);
    x = nabla::randn({100, 6});  // 100 = 6 batches of 16 + a partial batch of 4
    Tensor w = nabla::randn({6, 3});
    labels = nabla::matmul(x, w).argmax(1);
    onehot = utils::to_categorical(labels, 3);
    xv = nabla::randn({30, 6});
    yv = utils::to_categorical(nabla::matmul(xv, w).argmax(1), 3);
  }
  Tensor x, labels, onehot, xv, yv;
};

double max_abs_diff(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item<double>(); }

using MakeModel = std::function<Sequential()>;
Sequential mlp() {
  return Sequential({layers::Dense(16, "relu", {.input_shape = {6}}), layers::Dense(3, "softmax")});
}
Sequential mlp_bn() {
  return Sequential({layers::Dense(16, "linear", {.input_shape = {6}}), layers::BatchNormalization(),
                     layers::Activation("relu"), layers::Dense(3, "softmax")});
}

struct FitRun {
  History history;
  std::vector<Tensor> weights;
  std::string eager_reason;
  int64_t graph_runs = 0;
};

/// Builds the model from seed 1, compiles it (eagerly or not) and fits with `fit_options`.
FitRun fit_once(const MakeModel& make, bool run_eagerly, const Tensor& x, const Tensor& y,
                FitOptions fit_options,
                CompileOptions compile_options = {.optimizer = optimizers::Adam({.learning_rate = 0.01}),
                                                  .loss = "categorical_crossentropy",
                                                  .metrics = {"accuracy", "mse"}}) {
  nabla::manual_seed(1);
  auto model = make();
  compile_options.run_eagerly = run_eagerly;
  model.compile(compile_options);
  fit_options.verbose = 0;
  fit_options.seed = 42;
  FitRun r;
  r.history = model.fit(x, y, fit_options);
  r.weights = model.get_weights();
  r.eager_reason = model.eager_reason();
  r.graph_runs = model.compiled_graph_runs();
  return r;
}

void expect_same(const FitRun& a, const FitRun& b, double tol) {
  ASSERT_EQ(a.history.history.size(), b.history.history.size());
  for (const auto& [key, values] : a.history.history) {
    ASSERT_TRUE(b.history.history.count(key)) << key;
    const auto& other = b.history.history.at(key);
    ASSERT_EQ(values.size(), other.size()) << key;
    for (size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(values[i], other[i], tol) << key << " epoch " << i;
  }
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (size_t i = 0; i < a.weights.size(); ++i)
    EXPECT_LT(max_abs_diff(a.weights[i], b.weights[i]), tol) << "weight " << i;
}

TEST_F(KerasCompiled, DefaultFitIsCompiledAndEqualsRunEagerly) {
  FitOptions o{.epochs = 4, .batch_size = 16, .validation_data = {{xv, yv}}};
  FitRun compiled = fit_once(mlp, false, x, onehot, o);
  FitRun eager = fit_once(mlp, true, x, onehot, o);
  EXPECT_EQ(compiled.eager_reason, "");
  // 4 epochs x 7 batches: all but the traced ones (two full-batch traces: before and after Adam
  // creates its state; one for the partial batch) ran the graph; validation also compiled.
  EXPECT_GE(compiled.graph_runs, 4 * 7 - 3);
  EXPECT_EQ(eager.graph_runs, 0);
  expect_same(compiled, eager, 1e-4);
  // Training did something.
  EXPECT_LT(compiled.history.history["loss"].back(), compiled.history.history["loss"].front());
}

TEST_F(KerasCompiled, SampleAndClassWeightsMatchEager) {
  Tensor sw = nabla::rand({100}) + 0.5;
  FitOptions o{.epochs = 2, .batch_size = 16, .class_weight = {{0, 2.0}, {2, 0.5}}, .sample_weight = sw};
  FitRun compiled = fit_once(mlp, false, x, labels, o,
                             {.optimizer = optimizers::SGD({.learning_rate = 0.1, .momentum = 0.9}),
                              .loss = "sparse_categorical_crossentropy",
                              .metrics = {"accuracy"}});
  FitRun eager = fit_once(mlp, true, x, labels, o,
                          {.optimizer = optimizers::SGD({.learning_rate = 0.1, .momentum = 0.9}),
                           .loss = "sparse_categorical_crossentropy",
                           .metrics = {"accuracy"}});
  EXPECT_EQ(compiled.eager_reason, "");
  EXPECT_GT(compiled.graph_runs, 8);
  expect_same(compiled, eager, 1e-4);
}

TEST_F(KerasCompiled, HistoryValEqualsEvaluate) {
  nabla::manual_seed(3);
  auto model = mlp();
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy", "mse"}});
  auto h = model.fit(x, onehot, {.epochs = 2, .batch_size = 16, .verbose = 0, .validation_data = {{xv, yv}}});
  auto r = model.evaluate(xv, yv, {.batch_size = 7, .verbose = 0});
  EXPECT_NEAR(h.history["val_loss"].back(), r["loss"], 1e-6);
  EXPECT_NEAR(h.history["val_accuracy"].back(), r["accuracy"], 1e-12);
  EXPECT_NEAR(h.history["val_mse"].back(), r["mse"], 1e-7);
  // And evaluate (compiled) equals a loss computed independently from predict.
  Tensor p = model.predict(xv).clamp(nabla::Scalar(1e-7), nabla::Scalar(1 - 1e-7));
  EXPECT_NEAR(r["loss"], -(yv * p.log()).sum({1}).mean().item<double>(), 1e-5);
  EXPECT_GT(model.compiled_graph_runs(), 0);
}

TEST_F(KerasCompiled, LearningRateIsARuntimeInput) {
  // The schedule changes the rate every epoch: compiled must follow it (not freeze the first rate).
  auto schedule = [] {
    return std::make_shared<callbacks::LearningRateScheduler>(
        [](int epoch, double) { return 0.05 / (1 + 3 * epoch); });
  };
  FitOptions o{.epochs = 4, .batch_size = 16};
  o.callbacks = {schedule()};
  FitRun compiled = fit_once(mlp, false, x, onehot, o);
  o.callbacks = {schedule()};
  FitRun eager = fit_once(mlp, true, x, onehot, o);
  expect_same(compiled, eager, 1e-4);
  EXPECT_NEAR(compiled.history.history["learning_rate"].back(), 0.05 / 10, 1e-12);
  // A frozen rate would give a different trajectory: the constant-rate run differs.
  o.callbacks = {std::make_shared<callbacks::LearningRateScheduler>([](int, double) { return 0.05; })};
  FitRun constant = fit_once(mlp, false, x, onehot, o);
  EXPECT_GT(max_abs_diff(constant.weights[0], compiled.weights[0]), 1e-3);
}

TEST_F(KerasCompiled, ReduceLROnPlateauReachesTheGraph) {
  auto plateau = [] {
    // min_delta 10: never "improves", so the rate drops every epoch after the first.
    return std::make_shared<callbacks::ReduceLROnPlateau>(callbacks::ReduceLROnPlateauOptions{
        .monitor = "loss", .factor = 0.2, .patience = 0, .min_delta = 10});
  };
  FitOptions o{.epochs = 4, .batch_size = 16};
  o.callbacks = {plateau()};
  FitRun compiled = fit_once(mlp, false, x, onehot, o);
  o.callbacks = {plateau()};
  FitRun eager = fit_once(mlp, true, x, onehot, o);
  EXPECT_LT(compiled.history.history["learning_rate"].back(), 0.01 * 0.2 * 0.2 + 1e-9);
  expect_same(compiled, eager, 1e-4);
}

TEST_F(KerasCompiled, SetWeightsAndRestoreBestWeightsReachTheGraph) {
  auto sequence = [&](bool run_eagerly) {
    nabla::manual_seed(1);
    auto model = mlp();
    model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1}),
                   .loss = "categorical_crossentropy",
                   .run_eagerly = run_eagerly});
    auto start = model.get_weights();
    model.fit(x, onehot, {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 5});
    model.set_weights(start);  // back to the start: the graph must read the restored values
    auto h1 = model.fit(x, onehot, {.epochs = 1, .batch_size = 16, .verbose = 0, .seed = 5});
    // EarlyStopping on a monitor that never improves: restores the first epoch's weights.
    auto stop = std::make_shared<callbacks::EarlyStopping>(callbacks::EarlyStoppingOptions{
        .monitor = "loss", .min_delta = 10, .patience = 1, .restore_best_weights = true});
    auto h2 =
        model.fit(x, onehot, {.epochs = 5, .batch_size = 16, .verbose = 0, .callbacks = {stop}, .seed = 6});
    auto after_stop = model.get_weights();
    // Training on from the restored weights.
    auto h3 = model.fit(x, onehot, {.epochs = 1, .batch_size = 16, .verbose = 0, .seed = 7});
    return std::make_tuple(h1.history["loss"][0], h2, h3.history["loss"][0], after_stop, model.get_weights(),
                           model.compiled_graph_runs());
  };
  auto [c1, ch2, c3, cstop, cw, cruns] = sequence(false);
  auto [e1, eh2, e3, estop, ew, eruns] = sequence(true);
  EXPECT_GT(cruns, 20);
  EXPECT_EQ(eruns, 0);
  EXPECT_NEAR(c1, e1, 1e-5);
  EXPECT_EQ(ch2.epoch.size(), eh2.epoch.size());
  EXPECT_NEAR(c3, e3, 1e-5);
  for (size_t i = 0; i < cw.size(); ++i) {
    EXPECT_LT(max_abs_diff(cstop[i], estop[i]), 1e-5);
    EXPECT_LT(max_abs_diff(cw[i], ew[i]), 1e-5);
  }
}

TEST_F(KerasCompiled, BatchNormStatisticsFollowEager) {
  FitOptions o{.epochs = 3, .batch_size = 16, .validation_data = {{xv, yv}}};
  FitRun compiled = fit_once(mlp_bn, false, x, onehot, o);
  FitRun eager = fit_once(mlp_bn, true, x, onehot, o);
  EXPECT_EQ(compiled.eager_reason, "");
  EXPECT_GT(compiled.graph_runs, 10);
  // get_weights includes moving_mean / moving_variance.
  expect_same(compiled, eager, 1e-4);
}

TEST_F(KerasCompiled, DropoutIsCompiledWithTheEagerMasks) {
  // Dropout's draws are a graph op reading the default generator on every run: the compiled step
  // draws the same masks as the eager step for the same seed.
  auto with_dropout = [] {
    return Sequential(
        {layers::Dense(16, "relu", {.input_shape = {6}}), layers::Dropout(0.3), layers::Dense(3, "softmax")});
  };
  FitOptions o{.epochs = 3, .batch_size = 16, .validation_data = {{xv, yv}}};
  FitRun compiled = fit_once(with_dropout, false, x, onehot, o);
  FitRun eager = fit_once(with_dropout, true, x, onehot, o);
  EXPECT_EQ(compiled.eager_reason, "");
  EXPECT_GE(compiled.graph_runs, 3 * 7 - 3);
  expect_same(compiled, eager, 1e-4);
  // (Masks frozen at trace time would not follow the eager run, which draws new ones per step.)
}

TEST_F(KerasCompiled, UntraceableStepFallsBackToEagerWithTheSameResults) {
  // Adagrad has no graph op: the trace fails in optimizer.step(), after BatchNorm already updated
  // its statistics in the traced (eager) forward; they are restored, so nothing differs.
  auto run = [&](bool run_eagerly) {
    nabla::manual_seed(1);
    auto model = Sequential({layers::Dense(16, "linear", {.input_shape = {6}}), layers::BatchNormalization(),
                             layers::Activation("relu"), layers::Dense(3, "softmax")});
    std::shared_ptr<nabla::optim::Optimizer> opt =
        std::make_shared<nabla::optim::Adagrad>(model.parameters(), nabla::optim::AdagradOptions{.lr = 0.05});
    model.compile({.optimizer = opt, .loss = "categorical_crossentropy", .run_eagerly = run_eagerly});
    FitRun r;
    r.history = model.fit(x, onehot, {.epochs = 2, .batch_size = 16, .verbose = 0, .seed = 42});
    r.weights = model.get_weights();
    r.eager_reason = model.eager_reason();
    r.graph_runs = model.compiled_graph_runs();
    return r;
  };
  FitRun compiled = run(false), eager = run(true);
  EXPECT_NE(compiled.eager_reason.find("Adagrad.step() cannot be traced"), std::string::npos)
      << compiled.eager_reason;
  EXPECT_EQ(compiled.graph_runs, 0);
  expect_same(compiled, eager, 1e-6);
}

TEST_F(KerasCompiled, DefaultRmspropIsCompiledToo) {
  // compile's default optimizer is "rmsprop", as in Keras: its update is a graph op.
  FitOptions o{.epochs = 3, .batch_size = 16};
  FitRun compiled =
      fit_once(mlp, false, x, onehot, o, {.loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  FitRun eager =
      fit_once(mlp, true, x, onehot, o, {.loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  EXPECT_EQ(compiled.eager_reason, "");
  EXPECT_GE(compiled.graph_runs, 3 * 7 - 3);
  expect_same(compiled, eager, 1e-4);
}

TEST_F(KerasCompiled, RunEagerlyFitNeverTraces) {
  FitRun eager = fit_once(mlp, true, x, onehot, {.epochs = 1, .batch_size = 16});
  EXPECT_EQ(eager.graph_runs, 0);
  EXPECT_EQ(eager.eager_reason, "");
}

}  // namespace
