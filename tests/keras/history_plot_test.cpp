// History::plot: the curves PNG of a real fit, decoded back (size, both panels drawn), and the
// clear error when nothing was recorded.
#include <gtest/gtest.h>

#include <filesystem>

#include "nabla/error.h"
#include "nabla/generator.h"
#include "nabla/keras.h"
#include "plot/plot_test_util.h"

namespace {
using namespace nabla::keras;
using nabla::Tensor;

TEST(KerasHistoryPlot, FitHistoryBecomesACurvesPng) {
  clear_session();
  nabla::manual_seed(3);
  Tensor x = nabla::randn({64, 4});
  Tensor y = utils::to_categorical(nabla::matmul(x, nabla::randn({4, 2})).argmax(1), 2);
  auto model = Sequential({layers::Dense(8, "relu", {.input_shape = {4}}), layers::Dense(2, "softmax")});
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  auto history = model.fit(x, y, {.epochs = 4, .batch_size = 16, .verbose = 0, .validation_split = 0.25});
  ASSERT_EQ(history.history.at("val_loss").size(), 4u);

  std::string path = nabla::plot::testing::temp_png("history");
  history.plot(path);
  nabla::plot::testing::Decoded img(path);
  std::filesystem::remove(path);
  EXPECT_EQ(img.w, 2 * 520);  // one panel for loss, one for accuracy
  EXPECT_EQ(img.h, 400);
  for (int panel = 0; panel < 2; ++panel) {
    int x0 = panel * 520 + 74, x1 = panel * 520 + 500;
    // The training curve (blue) is drawn inside each panel's plot area.
    EXPECT_GT(img.count(31, 119, 180, 12, x0, 36, x1, 346), 100) << "panel " << panel;
  }
}

TEST(KerasHistoryPlot, EmptyHistoryIsAClearError) {
  History empty;
  try {
    empty.plot(nabla::plot::testing::temp_png("empty"));
    FAIL() << "expected nabla::Error";
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no epoch was recorded"), std::string::npos) << e.what();
  }
}

}  // namespace
