// keras::callbacks::TensorBoard: the event files fit() leaves, read back and compared with the
// History fit returns (same values, as float32), the learning rate, batch scalars and histograms.
#include "nabla/keras/tensorboard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "nabla/error.h"
#include "nabla/generator.h"
#include "nabla/keras.h"
#include "tensorboard/record_reader.h"

namespace {
using namespace nabla::keras;
namespace fs = std::filesystem;

// Events of the single event file in `dir`, by tag: (step, value) for scalars.
std::map<std::string, std::vector<std::pair<int64_t, float>>> scalars_in(const std::string& dir) {
  std::map<std::string, std::vector<std::pair<int64_t, float>>> out;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  EXPECT_EQ(files.size(), 1u) << dir;
  for (const auto& ev : nabla::tensorboard::testing::read_events(files.at(0).string()))
    for (const auto& v : ev.summary().value())
      if (v.value_case() == ::tensorboard::Summary::Value::kSimpleValue)
        out[v.tag()].push_back({ev.step(), v.simple_value()});
  return out;
}

TEST(KerasTensorBoard, EpochScalarsMatchHistory) {
  clear_session();
  nabla::manual_seed(5);
  auto x = nabla::randn({80, 4});
  auto y = utils::to_categorical(nabla::matmul(x, nabla::randn({4, 3})).argmax(1), 3);
  Sequential model({layers::Dense(8, "relu", {.input_shape = {4}}), layers::Dense(3, "softmax")});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.05}),
                 .loss = "categorical_crossentropy",
                 .metrics = {"accuracy"}});
  std::string dir = (fs::temp_directory_path() / ("nabla_keras_tb_" + std::to_string(getpid()))).string();
  fs::remove_all(dir);
  auto tb = std::make_shared<callbacks::TensorBoard>(
      callbacks::TensorBoardOptions{.log_dir = dir, .histogram_freq = 2, .update_freq = 2});
  // 60 training samples in batches of 16: 4 batches per epoch, batch scalars at batches 2, 4, ...
  auto h = model.fit(
      x, y, {.epochs = 3, .batch_size = 16, .verbose = 0, .callbacks = {tb}, .validation_split = 0.25});

  auto train = scalars_in(dir + "/train");
  auto val = scalars_in(dir + "/validation");
  for (const auto& [key, values] : h.history) {
    bool is_val = key.rfind("val_", 0) == 0;
    const auto& series = (is_val ? val : train)["epoch_" + (is_val ? key.substr(4) : key)];
    ASSERT_EQ(series.size(), values.size()) << key;
    for (size_t e = 0; e < values.size(); ++e) {
      EXPECT_EQ(series[e].first, int64_t(e)) << key;
      EXPECT_EQ(series[e].second, float(values[e])) << key;
    }
  }
  EXPECT_EQ(train.count("epoch_loss"), 1u);
  EXPECT_EQ(val.count("epoch_accuracy"), 1u);
  ASSERT_EQ(train["epoch_learning_rate"].size(), 3u);
  EXPECT_EQ(train["epoch_learning_rate"][2].second, 0.05f);
  const auto& batch_loss = train["batch_loss"];
  ASSERT_EQ(batch_loss.size(), 6u);
  EXPECT_EQ(batch_loss.front().first, 2);
  EXPECT_EQ(batch_loss.back().first, 12);

  // Histograms at epochs 0 and 2, one per parameter, counting every weight.
  std::map<std::string, std::vector<int64_t>> histo_steps;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir + "/train")) files.push_back(e.path());
  for (const auto& ev : nabla::tensorboard::testing::read_events(files.at(0).string()))
    for (const auto& v : ev.summary().value())
      if (v.has_histo()) histo_steps[v.tag()].push_back(ev.step());
  auto params = model.named_parameters();
  ASSERT_EQ(histo_steps.size(), params.size());
  for (const auto& [name, p] : params) EXPECT_EQ(histo_steps[name], (std::vector<int64_t>{0, 2})) << name;
  fs::remove_all(dir);
}

TEST(KerasTensorBoard, BadOptionsAreErrors) {
  EXPECT_THROW(callbacks::TensorBoard(callbacks::TensorBoardOptions{.log_dir = ""}), nabla::Error);
  EXPECT_THROW(callbacks::TensorBoard(callbacks::TensorBoardOptions{.histogram_freq = -1}), nabla::Error);
}

}  // namespace
