// The curves PNG decoded back: its size, the two line colours inside each panel's plot area, the
// direction of the curves, and text in the title strip.
#include "nabla/plot/training_curves.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "nabla/error.h"
#include "nabla/ops.h"
#include "plot/plot_test_util.h"

namespace nabla::plot {
namespace {

using testing::Decoded;

const std::map<std::string, std::vector<double>> kHistory{
    {"loss", {1.2, 0.8, 0.6, 0.5, 0.45, 0.42, 0.4, 0.39}},
    {"val_loss", {1.0, 0.75, 0.65, 0.6, 0.58, 0.57, 0.57, 0.58}},
    {"accuracy", {0.55, 0.7, 0.78, 0.82, 0.84, 0.85, 0.86, 0.87}},
    {"val_accuracy", {0.6, 0.72, 0.77, 0.79, 0.8, 0.81, 0.81, 0.81}}};

TEST(PlotTrainingCurves, PngHasTwoPanelsWithBothCurves) {
  std::string path = testing::temp_png("curves");
  training_curves(kHistory, path);
  Decoded img(path);
  std::filesystem::remove(path);
  ASSERT_EQ(img.w, 2 * 520);
  ASSERT_EQ(img.h, 400);
  for (int panel = 0; panel < 2; ++panel) {
    // Plot area of the panel (margins 72/18/34/52 in training_curves.cpp).
    int x0 = panel * 520 + 74, x1 = panel * 520 + 500, y0 = 36, y1 = 346;
    int blue = img.count(31, 119, 180, 12, x0, y0, x1, y1),
        orange = img.count(255, 127, 14, 12, x0, y0, x1, y1);
    EXPECT_GT(blue, 300) << "panel " << panel;
    EXPECT_GT(orange, 150) << "panel " << panel;
    // Loss falls (line moves down the image, y grows), accuracy rises; compare the first and last
    // tenth of the plot width, below the legend box.
    double left = img.mean_y(31, 119, 180, 12, x0, y0 + 70, x0 + 40, y1);
    double right = img.mean_y(31, 119, 180, 12, x1 - 40, y0, x1, y1);
    ASSERT_GE(left, 0);
    ASSERT_GE(right, 0);
    if (panel == 0) {
      EXPECT_LT(left, right);  // loss: starts high on screen (small y)
    } else {
      EXPECT_GT(left, right);  // accuracy: starts low on screen
    }
    // Title and tick labels: dark text pixels above the plot area and left of it.
    EXPECT_GT(img.count(38, 38, 38, 40, panel * 520 + 150, 0, panel * 520 + 370, 32), 20);
    EXPECT_GT(img.count(38, 38, 38, 40, panel * 520 + 20, y0, panel * 520 + 66, y1), 50);
  }
  // Nothing drawn in the margins' far corners.
  EXPECT_EQ(img.count(255, 255, 255, 0, 0, 380, 10, 400), 10 * 20);
}

TEST(PlotTrainingCurves, TensorMatchesPngAndOnePanelPerMetric) {
  auto t = render_training_curves({{"loss", {3, 2, 1}}}, {.panel_width = 300, .height = 200, .title = "MLP"});
  EXPECT_EQ(t.shape(), (Shape{200, 300, 3}));
  EXPECT_EQ(t.dtype(), kUInt8);
  std::string path = testing::temp_png("curves1");
  training_curves({{"loss", {3, 2, 1}}}, path, {.panel_width = 300, .height = 200, .title = "MLP"});
  Decoded img(path);
  std::filesystem::remove(path);
  EXPECT_TRUE(nabla::equal(img.t, t));
  // No validation series: no orange anywhere.
  EXPECT_EQ(img.count(255, 127, 14, 12, 0, 0, img.w, img.h), 0);
}

TEST(PlotTrainingCurves, SingleEpochAndNonFiniteValuesStillDraw) {
  auto t = render_training_curves({{"loss", {0.5}}, {"val_loss", {NAN}}, {"lr", {1e-3}}});
  EXPECT_EQ(t.size(1), 2 * 520);  // loss (with val_loss) and lr
}

TEST(PlotTrainingCurves, BadInputIsAnError) {
  EXPECT_THROW(render_training_curves({}), Error);
  try {
    render_training_curves({{"loss", {}}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'loss'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(training_curves({{"loss", {1.0}}}, "/proc/nabla_no/curves.png"), Error);
}

}  // namespace
}  // namespace nabla::plot
