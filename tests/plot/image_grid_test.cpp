// The predictions grid decoded back: size, each image's pixels in its cell, green frames for
// right predictions and red ones for wrong predictions.
#include "nabla/plot/image_grid.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "nabla/creation.h"
#include "nabla/error.h"
#include "nabla/ops.h"
#include "plot/plot_test_util.h"

namespace nabla::plot {
namespace {

using testing::Decoded;

const std::vector<std::string> kNames{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

TEST(PlotImageGrid, CellsFramesAndPixels) {
  // 10 constant gray 28x28 images, image i has value 20 * i + 30; odd ones are mispredicted.
  auto images =
      (nabla::arange(10).reshape({10, 1, 1}).expand({10, 28, 28}) * 20 + 30).to(kUInt8).contiguous();
  auto truth = nabla::arange(10);
  std::vector<int64_t> pred(10);
  for (int i = 0; i < 10; ++i) pred[i] = i % 2 ? (i + 1) % 10 : i;
  std::string path = testing::temp_png("grid");
  image_grid(images, nabla::tensor(pred), truth, kNames, path, {.columns = 8, .cell = 84});
  Decoded img(path);
  std::filesystem::remove(path);
  // 8 columns of 110 + 10 pixels, 2 rows of 84 + 38 + 10 pixels, 10 pixels of padding.
  ASSERT_EQ(img.w, 10 + 8 * 120);
  ASSERT_EQ(img.h, 10 + 2 * 132);
  for (int i = 0; i < 10; ++i) {
    int x = 10 + (i % 8) * 120 + 13, y = 10 + (i / 8) * 132;  // image square: 84x84 centred in 110
    const uint8_t* centre = img.at(y + 42, x + 42);
    EXPECT_EQ(centre[0], 20 * i + 30) << "image " << i;
    EXPECT_EQ(img.count(20 * i + 30, 20 * i + 30, 20 * i + 30, 0, x + 2, y + 2, x + 82, y + 82), 80 * 80);
    int green = img.count(0, 140, 0, 10, x - 4, y - 4, x + 88, y + 88);
    int red = img.count(210, 0, 0, 10, x - 4, y - 4, x + 88, y + 88);
    if (i % 2) {
      EXPECT_GT(red, 300) << i;
      EXPECT_EQ(green, 0) << i;
    } else {
      EXPECT_GT(green, 300) << i;
      EXPECT_EQ(red, 0) << i;
    }
    // Caption text below the image.
    EXPECT_GT(img.count(51, 51, 51, 50, x - 13, y + 86, x + 97, y + 122), 30) << i;
  }
}

TEST(PlotImageGrid, FloatRgbImagesAndTensorOutput) {
  // Two 3x4x4 float images: pure red and pure blue.
  auto a = nabla::zeros({2, 3, 4, 4});
  a.select(0, 0).select(0, 0).fill_(1.0);
  a.select(0, 1).select(0, 2).fill_(1.0);
  auto t =
      render_image_grid(a, nabla::tensor({0, 1}), nabla::tensor({0, 1}), kNames, {.columns = 2, .cell = 32});
  ASSERT_EQ(t.dim(), 3);
  auto at = [&](int y, int x, int c) { return t.select(0, y).select(0, x).select(0, c).item<int64_t>(); };
  int x0 = 10 + (110 - 32) / 2, y0 = 10;
  EXPECT_EQ(at(y0 + 16, x0 + 16, 0), 255);
  EXPECT_EQ(at(y0 + 16, x0 + 16, 2), 0);
  EXPECT_EQ(at(y0 + 16, x0 + 120 + 16, 0), 0);
  EXPECT_EQ(at(y0 + 16, x0 + 120 + 16, 2), 255);
}

TEST(PlotImageGrid, BadInputIsAnError) {
  auto imgs = nabla::zeros({2, 8, 8});
  EXPECT_THROW(render_image_grid(imgs, nabla::tensor({0, 1, 2}), nabla::tensor({0, 1}), kNames), Error);
  try {
    render_image_grid(imgs, nabla::tensor({0, 12}), nabla::tensor({0, 1}), kNames);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("class 12"), std::string::npos) << e.what();
  }
  EXPECT_THROW(
      render_image_grid(nabla::zeros({2, 2, 8, 8}), nabla::tensor({0, 1}), nabla::tensor({0, 1}), kNames),
      Error);
}

}  // namespace
}  // namespace nabla::plot
