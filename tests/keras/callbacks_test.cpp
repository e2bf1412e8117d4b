// Callbacks: EarlyStopping stops at the right epoch and restores the best weights, CSVLogger,
// LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN, LambdaCallback, custom subclasses.
// Monitored values are scripted by a LambdaCallback that runs before the callback under test,
// so the expected epochs follow from Keras's rules by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "nabla/generator.h"
#include "nabla/keras.h"

namespace {
using namespace nabla::keras;
using nabla::Tensor;

class KerasCallbacks : public ::testing::Test {
 protected:
  void SetUp() override {
    clear_session();
    nabla::manual_seed(3);
    x = nabla::randn({64, 4});
    y = utils::to_categorical(nabla::matmul(x, nabla::randn({4, 2})).argmax(1), 2);
    model = std::make_unique<Sequential>(std::initializer_list<LayerRef>{
        layers::Dense(8, "relu", {.input_shape = {4}}), layers::Dense(2, "softmax")});
    model->compile(
        {.optimizer = optimizers::SGD({.learning_rate = 0.1}), .loss = "categorical_crossentropy"});
  }
  /// A callback that overwrites logs[key] at epoch e with values[e].
  static std::shared_ptr<callbacks::Callback> script(const std::string& key, std::vector<double> values) {
    return std::make_shared<callbacks::LambdaCallback>(callbacks::LambdaCallback::Options{
        .on_epoch_end = [key, values](int e, Logs& logs) { logs[key] = values.at(e); }});
  }
  Tensor x, y;
  std::unique_ptr<Sequential> model;
};

TEST_F(KerasCallbacks, EarlyStoppingStopsAfterPatienceAndRestoresBest) {
  // val_loss: best at epoch 1; patience 2 -> epochs 2 and 3 do not improve, stop at epoch 3.
  std::vector<std::vector<Tensor>> weights_at;
  auto record = std::make_shared<callbacks::LambdaCallback>(callbacks::LambdaCallback::Options{
      .on_epoch_end = [&](int, Logs&) { weights_at.push_back(model->get_weights()); }});
  auto stop = std::make_shared<callbacks::EarlyStopping>(
      callbacks::EarlyStoppingOptions{.monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  auto h = model->fit(x, y,
                      {.epochs = 20,
                       .batch_size = 16,
                       .verbose = 0,
                       .callbacks = {script("val_loss", {1.0, 0.5, 0.6, 0.55, 0.1, 0.1}), record, stop}});
  EXPECT_EQ(h.epoch.size(), 4u);
  EXPECT_EQ(stop->stopped_epoch, 3);
  EXPECT_EQ(stop->best_epoch, 1);
  EXPECT_DOUBLE_EQ(stop->best, 0.5);
  auto now = model->get_weights();
  ASSERT_EQ(weights_at.size(), 4u);
  for (size_t i = 0; i < now.size(); ++i) {
    EXPECT_EQ((now[i] - weights_at[1][i]).abs().max().item<double>(), 0.0) << "weight " << i;
  }
  EXPECT_GT((now[0] - weights_at[3][0]).abs().max().item<double>(), 0.0);  // really restored
}

TEST_F(KerasCallbacks, EarlyStoppingMinDeltaAndMaxMode) {
  // accuracy is maximised ("auto" sees the name); +0.005 is below min_delta 0.01: no improvement.
  auto stop = std::make_shared<callbacks::EarlyStopping>(
      callbacks::EarlyStoppingOptions{.monitor = "accuracy", .min_delta = 0.01, .patience = 1});
  auto h = model->fit(
      x, y, {.epochs = 10, .verbose = 0, .callbacks = {script("accuracy", {0.5, 0.6, 0.605, 0.9}), stop}});
  EXPECT_EQ(h.epoch.size(), 3u);
  EXPECT_EQ(stop->stopped_epoch, 2);
  EXPECT_DOUBLE_EQ(stop->best, 0.6);
}

TEST_F(KerasCallbacks, CsvLoggerWritesWholeRecords) {
  const std::string path = ::testing::TempDir() + "keras_log.csv";
  std::remove(path.c_str());
  auto csv = std::make_shared<callbacks::CSVLogger>(path);
  model->fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {csv}, .validation_split = 0.25});
  auto csv2 = std::make_shared<callbacks::CSVLogger>(path, ',', true);
  model->fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {csv2}, .validation_split = 0.25});
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,loss,val_loss");
  EXPECT_EQ(lines[1].rfind("0,", 0), 0u);
  EXPECT_EQ(lines[2].rfind("1,", 0), 0u);
  EXPECT_EQ(lines[3].rfind("0,", 0), 0u);  // appended run, no second header
  double loss = 0, val = 0;
  int epoch = -1;
  ASSERT_EQ(std::sscanf(lines[3].c_str(), "%d,%lf,%lf", &epoch, &loss, &val), 3);
  EXPECT_GT(loss, 0);
}

TEST_F(KerasCallbacks, LearningRateSchedulerSetsTheOptimizer) {
  std::vector<double> seen;
  auto sched = std::make_shared<callbacks::LearningRateScheduler>(
      [](int epoch, double lr) { return epoch == 0 ? 0.5 : lr * 0.1; });
  auto spy = std::make_shared<callbacks::LambdaCallback>(
      callbacks::LambdaCallback::Options{.on_train_batch_begin = [&](int64_t b, Logs&) {
        if (b == 0) seen.push_back(model->optimizer()->get_lr());
      }});
  auto h = model->fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {sched, spy}});
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_DOUBLE_EQ(seen[0], 0.5);
  EXPECT_NEAR(seen[1], 0.05, 1e-15);
  EXPECT_NEAR(seen[2], 0.005, 1e-15);
  EXPECT_NEAR(h.history["learning_rate"][2], 0.005, 1e-15);
}

TEST_F(KerasCallbacks, ReduceLROnPlateauFollowsKerasRules) {
  // Keras's rules by hand (patience 2, cooldown 1): epoch 1 improves; epochs 2, 3 wait 1, 2 ->
  // reduce after epoch 3; epoch 4 is the cooldown; epochs 5, 6 wait 1, 2 -> reduce after epoch 6.
  auto plateau = std::make_shared<callbacks::ReduceLROnPlateau>(callbacks::ReduceLROnPlateauOptions{
      .monitor = "val_loss", .factor = 0.5, .patience = 2, .cooldown = 1});
  auto h = model->fit(x, y,
                      {.epochs = 8,
                       .verbose = 0,
                       .callbacks = {script("val_loss", {1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}), plateau}});
  auto& lr = h.history["learning_rate"];  // the rate used during each epoch
  ASSERT_EQ(lr.size(), 8u);
  std::vector<double> want{0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
  for (size_t e = 0; e < want.size(); ++e) EXPECT_DOUBLE_EQ(lr[e], want[e]) << "epoch " << e;
  EXPECT_DOUBLE_EQ(model->optimizer()->get_lr(), 0.025);
}

TEST_F(KerasCallbacks, TerminateOnNaNStopsAtTheBadBatch) {
  int64_t batches = 0;
  auto poison = std::make_shared<callbacks::LambdaCallback>(
      callbacks::LambdaCallback::Options{.on_train_batch_end = [&](int64_t b, Logs& logs) {
        ++batches;
        if (b == 2) logs["loss"] = std::nan("");
      }});
  auto h = model->fit(x, y,
                      {.epochs = 5,
                       .batch_size = 8,
                       .verbose = 0,
                       .callbacks = {poison, std::make_shared<callbacks::TerminateOnNaN>()}});
  EXPECT_EQ(batches, 3);
  EXPECT_EQ(h.epoch.size(), 1u);
}

struct CountingCallback : callbacks::Callback {
  int train_begin = 0, train_end = 0, epochs = 0, test_batches = 0, predict_batches = 0;
  void on_train_begin(Logs&) override { ++train_begin; }
  void on_train_end(Logs&) override { ++train_end; }
  void on_epoch_end(int, Logs& logs) override {
    ++epochs;
    EXPECT_TRUE(logs.count("loss"));
    EXPECT_NE(model(), nullptr);
  }
  void on_test_batch_end(int64_t, Logs&) override { ++test_batches; }
  void on_predict_batch_end(int64_t, Logs&) override { ++predict_batches; }
};

TEST_F(KerasCallbacks, CustomSubclassSeesEveryHook) {
  auto c = std::make_shared<CountingCallback>();
  model->fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {c}});
  model->evaluate(x, y, {.batch_size = 16, .verbose = 0, .callbacks = {c}});
  model->predict(x, {.batch_size = 32, .callbacks = {c}});
  EXPECT_EQ(c->train_begin, 1);
  EXPECT_EQ(c->train_end, 1);
  EXPECT_EQ(c->epochs, 2);
  EXPECT_EQ(c->test_batches, 4);
  EXPECT_EQ(c->predict_batches, 2);
}

}  // namespace

namespace {
TEST_F(KerasCallbacks, ModelCheckpointSavesTheBestEpochOnly) {
  const std::string dir = ::testing::TempDir();
  std::vector<std::vector<Tensor>> weights_at;
  auto record = std::make_shared<callbacks::LambdaCallback>(callbacks::LambdaCallback::Options{
      .on_epoch_end = [&](int, Logs&) { weights_at.push_back(model->get_weights()); }});
  auto ckpt = std::make_shared<callbacks::ModelCheckpoint>(
      dir + "keras_ckpt_{epoch:02d}.safetensors",
      callbacks::ModelCheckpointOptions{.monitor = "val_loss", .save_best_only = true});
  for (int e = 1; e <= 5; ++e)
    std::remove((dir + "keras_ckpt_0" + std::to_string(e) + ".safetensors").c_str());
  model->fit(x, y,
             {.epochs = 5,
              .verbose = 0,
              .callbacks = {script("val_loss", {0.9, 0.4, 0.5, 0.3, 0.35}), record, ckpt}});
  // Saved after epochs 1, 2 and 4 (1-based names), not after 3 and 5.
  for (int e : {1, 2, 4})
    EXPECT_TRUE(std::ifstream(dir + "keras_ckpt_0" + std::to_string(e) + ".safetensors").good()) << e;
  for (int e : {3, 5})
    EXPECT_FALSE(std::ifstream(dir + "keras_ckpt_0" + std::to_string(e) + ".safetensors").good()) << e;
  EXPECT_EQ(ckpt->last_saved, dir + "keras_ckpt_04.safetensors");
  EXPECT_DOUBLE_EQ(ckpt->best, 0.3);
  // Loading the file restores epoch 4's weights (index 3) into a fresh model of the same shape.
  Sequential fresh({layers::Dense(8, "relu", {.input_shape = {4}, .name = "dense"}),
                    layers::Dense(2, "softmax", {.name = "dense_1"})});
  fresh.load_weights(ckpt->last_saved);
  auto w = fresh.get_weights();
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ((w[i] - weights_at[3][i]).abs().max().item<double>(), 0.0);
}

TEST_F(KerasCallbacks, ModelCheckpointFormatsMetricsInThePath) {
  callbacks::ModelCheckpoint c("m-{epoch}-{val_loss:.2f}.safetensors");
  EXPECT_EQ(c.format_path(6, {{"val_loss", 0.12345}}), "m-7-0.12.safetensors");
  EXPECT_THROW(c.format_path(0, {}), nabla::Error);
  EXPECT_THROW(callbacks::ModelCheckpoint("x", {.save_weights_only = false}), nabla::Error);
}
}  // namespace
