// The Summary builders: histogram buckets (hand-counted), image layouts and pixel conversion (PNG
// decoded back with libpng), text and hparams payloads.
#include "tensorboard/summary.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "nabla/creation.h"
#include "nabla/data/datasets/image_folder.h"
#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/ops.h"
#include "tensorboard/hparams_plugin_data.pb.h"

namespace nabla::tensorboard::detail {
namespace {

TEST(TensorboardHistogram, DefaultBinsArePyTorchs) {
  const auto& e = default_bins();
  // 774 positive edges 1e-12 * 1.1^k below 1e20, their negatives, and 0.
  ASSERT_EQ(e.size(), 1549u);
  EXPECT_EQ(e[774], 0.0);
  EXPECT_EQ(e[775], 1e-12);
  EXPECT_EQ(e[776], 1e-12 * 1.1);
  EXPECT_EQ(e[773], -1e-12);
  EXPECT_LT(e.back(), 1e20);
  EXPECT_GE(e.back() * 1.1, 1e20);
  EXPECT_TRUE(std::is_sorted(e.begin(), e.end()));
}

TEST(TensorboardHistogram, CountsAndTrimmingOnSmallEdges) {
  // edges 0 1 2 3 4 5: bins [0,1) [1,2) [2,3) [3,4) [4,5]
  std::vector<double> edges{0, 1, 2, 3, 4, 5};
  auto h = make_histogram("t", {2.5, 2.0, 3.9, 5.0, 4.0, 7.0, -1.0}, edges);
  // counts per bin: 0 0 2 1 2 (7 and -1 fall outside); non-empty bins 2..4, plus the empty bin 1.
  ASSERT_EQ(h.bucket_size(), 4);
  EXPECT_EQ(h.bucket(0), 0);
  EXPECT_EQ(h.bucket(1), 2);
  EXPECT_EQ(h.bucket(2), 1);
  EXPECT_EQ(h.bucket(3), 2);
  ASSERT_EQ(h.bucket_limit_size(), 4);
  EXPECT_EQ(h.bucket_limit(0), 2);  // right edge of [1,2)
  EXPECT_EQ(h.bucket_limit(3), 5);
  EXPECT_EQ(h.min(), -1.0);
  EXPECT_EQ(h.max(), 7.0);
  EXPECT_EQ(h.num(), 7);
  EXPECT_DOUBLE_EQ(h.sum(), 23.4);
  EXPECT_DOUBLE_EQ(h.sum_squares(), 6.25 + 4 + 3.9 * 3.9 + 25 + 16 + 49 + 1);

  // Non-empty from the first bin: a zero bucket whose limit is the first edge goes in front.
  auto g = make_histogram("t", {0.5, 1.5}, edges);
  ASSERT_EQ(g.bucket_size(), 3);
  EXPECT_EQ(g.bucket(0), 0);
  EXPECT_EQ(g.bucket(1), 1);
  EXPECT_EQ(g.bucket(2), 1);
  EXPECT_EQ(g.bucket_limit(0), 0);
  EXPECT_EQ(g.bucket_limit(2), 2);
}

TEST(TensorboardHistogram, DefaultBinsOnATensor) {
  auto t = nabla::tensor({-0.5f, 0.0f, 0.0f, 1e-13f, 2.0f});
  auto s = histogram_summary("w", t);
  const auto& h = s.value(0).histo();
  double total = 0;
  for (double c : h.bucket()) total += c;
  EXPECT_EQ(total, 5);
  EXPECT_EQ(h.min(), -0.5);
  EXPECT_EQ(h.max(), 2.0);
  // 0 and 1e-13 share the bin [0, 1e-12).
  const auto& e = default_bins();
  int found = 0;
  for (int i = 0; i < h.bucket_size(); ++i) {
    if (h.bucket_limit(i) == e[775]) {
      EXPECT_EQ(h.bucket(i), 3);
      ++found;
    }
  }
  EXPECT_EQ(found, 1);
}

TEST(TensorboardHistogram, BadInputIsAnError) {
  EXPECT_THROW(histogram_summary("w", nabla::zeros({0})), Error);
  try {
    histogram_summary("fc1/weight", nabla::tensor({1.0f, NAN, INFINITY}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc1/weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2 NaN/Inf"), std::string::npos) << e.what();
  }
}

TEST(TensorboardImage, LayoutsGiveTheSamePixels) {
  // A 3x2x4 CHW uint8 image with distinct values, and its HWC transpose.
  auto chw = nabla::arange(24).to(kUInt8).reshape({3, 2, 4});
  auto a = to_image8("x", chw, "CHW");
  auto b = to_image8("x", chw.permute({1, 2, 0}).contiguous(), "HWC");
  EXPECT_EQ(a.height, 2);
  EXPECT_EQ(a.width, 4);
  EXPECT_EQ(a.channels, 3);
  EXPECT_EQ(a.pixels, b.pixels);
  // pixel (h=1, w=2), channel 1 is chw[1][1][2] = 8 + 4 + 2
  EXPECT_EQ(a.pixels[(1 * 4 + 2) * 3 + 1], 14);
  auto g = to_image8("x", nabla::arange(6).to(kUInt8).reshape({2, 3}), "HW");
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.pixels, (std::vector<uint8_t>{0, 1, 2, 3, 4, 5}));
}

TEST(TensorboardImage, FloatsAreClampedAndTruncatedLikePyTorch) {
  auto img = to_image8("x", nabla::tensor({0.0f, 0.5f, 1.0f, 1.5f, -0.2f, 0.999f}).reshape({1, 2, 3}), "CHW");
  // float32(v) * 255 truncated: 127.5 -> 127, 254.745 -> 254
  EXPECT_EQ(img.pixels, (std::vector<uint8_t>{0, 127, 255, 255, 0, 254}));
}

TEST(TensorboardImage, BatchIsTiledEightPerRow) {
  // 10 gray 2x2 images whose pixels equal their index: a 2 x 8 grid, the last 6 cells black.
  auto batch = nabla::arange(10).to(kUInt8).reshape({10, 1, 1, 1}).expand({10, 1, 2, 2}).contiguous();
  auto g = to_image8("x", batch, "NCHW");
  EXPECT_EQ(g.height, 4);
  EXPECT_EQ(g.width, 16);
  auto at = [&](int y, int x) { return g.pixels[y * 16 + x]; };
  EXPECT_EQ(at(0, 0), 0);
  EXPECT_EQ(at(1, 15), 7);
  EXPECT_EQ(at(2, 2), 9);
  EXPECT_EQ(at(3, 15), 0);
}

TEST(TensorboardImage, BadShapesAreErrors) {
  EXPECT_THROW(to_image8("x", nabla::zeros({2, 4, 4}), "CHW"), Error);  // 2 channels
  EXPECT_THROW(to_image8("x", nabla::zeros({4, 4}), "CHW"), Error);     // rank
  EXPECT_THROW(to_image8("x", nabla::zeros({3, 4, 4}), "WHC"), Error);  // unknown layout
}

TEST(TensorboardImage, PngDecodesToTheSamePixels) {
  auto chw = (nabla::arange(3 * 5 * 7).reshape({3, 5, 7}) * 2).to(kUInt8);
  auto s = image_summary("img", to_image8("img", chw, "CHW"));
  const auto& im = s.value(0).image();
  EXPECT_EQ(im.height(), 5);
  EXPECT_EQ(im.width(), 7);
  EXPECT_EQ(im.colorspace(), 3);
  auto path = (std::filesystem::temp_directory_path() / ("nabla_tb_png_" + std::to_string(getpid()) + ".png"))
                  .string();
  nabla::io::write_file_atomic(path, im.encoded_image_string());
  auto decoded = nabla::data::datasets::read_png(path);
  std::filesystem::remove(path);
  ASSERT_EQ(decoded.shape(), (Shape{5, 7, 3}));
  auto expected = chw.permute({1, 2, 0}).contiguous();
  EXPECT_TRUE(nabla::equal(decoded, expected));
}

TEST(TensorboardText, StringTensorWithTextPlugin) {
  auto s = text_summary("notes", "**hi**");
  const auto& v = s.value(0);
  EXPECT_EQ(v.tag(), "notes/text_summary");
  EXPECT_EQ(v.metadata().plugin_data().plugin_name(), "text");
  EXPECT_EQ(v.tensor().dtype(), ::tensorboard::DT_STRING);
  ASSERT_EQ(v.tensor().string_val_size(), 1);
  EXPECT_EQ(v.tensor().string_val(0), "**hi**");
}

TEST(TensorboardHParams, ExperimentAndSessionInfo) {
  auto s = hparams_summaries({{"lr", 0.001}, {"batch", 32}, {"opt", "adam"}, {"bn", true}},
                             {{"hparam/accuracy", 0.9}});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].value(0).tag(), "_hparams_/experiment");
  EXPECT_EQ(s[1].value(0).tag(), "_hparams_/session_start_info");
  EXPECT_EQ(s[2].value(0).tag(), "_hparams_/session_end_info");
  ::tensorboard::hparams::HParamsPluginData exp, start, end;
  ASSERT_TRUE(exp.ParseFromString(s[0].value(0).metadata().plugin_data().content()));
  ASSERT_TRUE(start.ParseFromString(s[1].value(0).metadata().plugin_data().content()));
  ASSERT_TRUE(end.ParseFromString(s[2].value(0).metadata().plugin_data().content()));
  ASSERT_EQ(exp.experiment().hparam_infos_size(), 4);
  EXPECT_EQ(exp.experiment().metric_infos(0).name().tag(), "hparam/accuracy");
  const auto& hp = start.session_start_info().hparams();
  EXPECT_EQ(hp.at("lr").number_value(), 0.001);
  EXPECT_EQ(hp.at("batch").number_value(), 32);
  EXPECT_EQ(hp.at("opt").string_value(), "adam");
  EXPECT_TRUE(hp.at("bn").bool_value());
  EXPECT_EQ(end.session_end_info().status(), ::tensorboard::hparams::STATUS_SUCCESS);
}

}  // namespace
}  // namespace nabla::tensorboard::detail
