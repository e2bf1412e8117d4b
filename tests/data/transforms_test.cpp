// Transforms: deterministic ones against torchvision 0.14 values (fixtures written by
// tests/fixtures/data/gen_transforms.py), random ones by properties (seeded reproducibility,
// flip rate ~p, per-example draws in batch()).
#include "nabla/data/transforms.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/temp_dir.h"
#include "nabla/creation.h"
#include "nabla/data/data_loader.h"
#include "nabla/data/tensor_dataset.h"
#include "nabla/io/npy.h"
#include "nabla/ops.h"

using namespace data_test;
using namespace nabla::data::transforms;
using nabla::Tensor;

namespace {
Tensor fx(const std::string& name) {
  return nabla::io::load_npy(std::string(NABLA_FIXTURE_DIR) + "/data/transforms/" + name + ".npy");
}
void expect_close(const Tensor& got, const Tensor& want, double atol) {
  ASSERT_EQ(got.shape(), want.shape());
  ASSERT_EQ(got.dtype(), want.dtype());
  double worst = (got.to(nabla::kFloat64) - want.to(nabla::kFloat64)).abs().max().item<double>();
  EXPECT_LE(worst, atol);
}
Tensor chw() { return fx("to_tensor_hwc"); }  // float32 [3, 7, 9]
Tensor chw_u8() { return fx("in_hwc").permute({2, 0, 1}).contiguous(); }
}  // namespace

TEST(Transforms, ToTensorMatchesTorchvisionExactly) {
  expect_close(ToTensor()(fx("in_hwc")), fx("to_tensor_hwc"), 0);
  expect_close(to_tensor(fx("in_hw")), fx("to_tensor_hw"), 0);
  Tensor batch = nabla::stack({fx("in_hwc"), fx("in_hwc")});
  Tensor out = ToTensor().batch(batch);
  EXPECT_EQ(out.shape(), (nabla::Shape{2, 3, 7, 9}));
  expect_close(out[1], fx("to_tensor_hwc"), 0);
  EXPECT_EQ(ToTensor().batch(nabla::stack({fx("in_hw")})).shape(), (nabla::Shape{1, 1, 7, 9}));
  Tensor f = ToTensor()(fx("in_hwc").to(nabla::kFloat32));  // float: permute only
  expect_close(f, fx("in_hwc").to(nabla::kFloat32).permute({2, 0, 1}), 0);
}

TEST(Transforms, NormalizeMatchesTorchvision) {
  Normalize n({0.485, 0.456, 0.406}, {0.229, 0.224, 0.225});
  expect_close(n(chw()), fx("normalize"), 0);
  Tensor b = n.batch(nabla::stack({chw(), chw()}));
  expect_close(b[0], fx("normalize"), 0);
}

TEST(Transforms, ResizeMatchesTorchvisionBilinear) {
  expect_close(resize(chw(), 11, 14), fx("resize_up"), 1e-6);
  expect_close(resize(chw(), 4, 5), fx("resize_down"), 1e-6);
  expect_close(Resize(5, 13)(chw()), fx("resize_mixed"), 1e-6);
  expect_close(Resize(5)(chw()), fx("resize_edge"), 1e-6);
  expect_close(Resize(5, 13)(chw_u8()), fx("resize_u8"), 0);
  Tensor b = Resize(4, 5).batch(nabla::stack({chw(), chw()}));
  expect_close(b[1], fx("resize_down"), 1e-6);
}

TEST(Transforms, FlipAndCropMatchTorchvision) {
  expect_close(RandomHorizontalFlip(1.0, 7)(chw()), fx("hflip"), 0);
  expect_close(hflip(chw()), fx("hflip"), 0);
  // RandomCrop((6, 8), padding=2) at offset (1, 3) of the padded image.
  expect_close(crop(chw(), 1 - 2, 3 - 2, 6, 8), fx("pad_crop"), 0);
  EXPECT_TRUE(nabla::equal(RandomHorizontalFlip(0.0, 7)(chw()), chw()));
}

TEST(Transforms, RotateMatchesTorchvision) {
  expect_close(rotate(chw(), 10.0, Interpolation::kNearest), fx("rotate_nearest"), 0);
  expect_close(rotate(chw(), 10.0, Interpolation::kBilinear), fx("rotate_bilinear"), 1e-6);
  expect_close(rotate(chw(), -7.5, Interpolation::kBilinear, 0.5), fx("rotate_bilinear_fill"), 1e-6);
  expect_close(rotate(chw_u8(), 12.0, Interpolation::kBilinear), fx("rotate_u8_bilinear"), 1);
  expect_close(rotate(fx("in_big"), 15.0), fx("rotate_big_nearest"), 0);
  EXPECT_TRUE(nabla::equal(rotate(chw(), 0.0), chw()));
}

TEST(Transforms, ComposeChainsOneAndBatchForms) {
  Compose c(ToTensor(), Resize(4, 5), Normalize({0.5}, {0.25}));
  Tensor one = c(fx("in_hwc"));
  expect_close(one, (fx("resize_down") - 0.5) / 0.25, 1e-5);
  Tensor b = c.batch(nabla::stack({fx("in_hwc"), fx("in_hwc")}));
  EXPECT_EQ(b.shape(), (nabla::Shape{2, 3, 4, 5}));
  EXPECT_TRUE(nabla::equal(b[0], one));
  EXPECT_EQ(c.steps().size(), 3u);
}

// Compose runs ToTensor + Normalize as one pass over uint8 input: the values must be those of the
// two steps (torchvision's), bit for bit, for every pixel value, one image or a batch.
TEST(Transforms, ComposeToTensorNormalizeIsExactlyTheTwoSteps) {
  Compose rgb(ToTensor(), Normalize({0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}));
  expect_close(rgb(fx("in_hwc")), fx("normalize"), 0);
  Tensor b = rgb.batch(nabla::stack({fx("in_hwc"), fx("in_hwc")}));
  EXPECT_EQ(b.shape(), (nabla::Shape{2, 3, 7, 9}));
  expect_close(b[1], fx("normalize"), 0);

  Tensor all = nabla::arange(256).to(nabla::kUInt8).reshape({2, 8, 16});  // [N, H, W]
  Normalize norm({0.2860}, {0.3530});
  Compose gray(ToTensor(), norm);
  Tensor two_steps = norm.batch(ToTensor().batch(all));
  EXPECT_TRUE(nabla::equal(gray.batch(all), two_steps));
  EXPECT_EQ(gray.batch(all).shape(), (nabla::Shape{2, 1, 8, 16}));
  EXPECT_TRUE(nabla::equal(gray(all[1]), two_steps[1]));
  // A batch whose pixel count is not a multiple of 64 or 16: the 64-wide, 16-wide and scalar paths
  // of the lookup all run, and must agree with the two steps.
  std::vector<uint8_t> odd_pixels(3 * 7 * 13);
  for (size_t i = 0; i < odd_pixels.size(); ++i) odd_pixels[i] = static_cast<uint8_t>(i * 37 + 11);
  Tensor odd = nabla::from_buffer(odd_pixels.data(), {3, 7, 13}, nabla::kUInt8);
  std::vector<float> expect(odd_pixels.size());  // torchvision's arithmetic, written out
  for (size_t i = 0; i < expect.size(); ++i)
    expect[i] = (static_cast<float>(odd_pixels[i]) / 255.0f - 0.2860f) / 0.3530f;
  Tensor want = nabla::from_buffer(expect.data(), {3, 1, 7, 13}, nabla::kFloat32);
  EXPECT_TRUE(nabla::equal(gray.batch(odd), want));
  EXPECT_TRUE(nabla::equal(norm.batch(ToTensor().batch(odd)), want));
  // Float input is not fused (ToTensor only permutes it), and the pair can sit mid-chain.
  Tensor f = all[0].to(nabla::kFloat32);
  EXPECT_TRUE(nabla::equal(gray(f), norm(ToTensor()(f))));
  Compose chain(RandomHorizontalFlip(0.0), ToTensor(), norm, Resize(4, 4));
  EXPECT_TRUE(nabla::equal(chain(all[0]), Resize(4, 4)(two_steps[0])));
  // Same errors as the unfused steps.
  expect_error(
      [&] {
        Compose(ToTensor(), Normalize({0.5, 0.5}, {1.0, 1.0}))(fx("in_hwc"));
      },
      {"Normalize", "C = 3"});
  expect_error([&] { gray.batch(all[0][0]); }, {"ToTensor.batch", "[16]"});
}

TEST(Transforms, SameSeedSameOutput) {
  Tensor x = nabla::rand({16, 1, 12, 12}, {}, nullptr);
  auto run = [&](uint64_t seed) {
    Compose c(RandomCrop(10, 2, seed), RandomHorizontalFlip(0.5, seed + 1),
              RandomRotation(15.0, Interpolation::kBilinear, 0.0, seed + 2));
    return std::vector<Tensor>{c.batch(x), c(x[0]), c(x[1])};
  };
  auto a = run(3), b = run(3), d = run(4);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(nabla::equal(a[i], b[i]));
  EXPECT_FALSE(nabla::equal(a[0], d[0]));
  // A copy continues from the same state.
  RandomCrop rc(8, 0, 11);
  RandomCrop copy = rc;
  EXPECT_TRUE(nabla::equal(rc(x[0]), copy(x[0])));
  // manual_seed makes unseeded transforms reproducible.
  nabla::manual_seed(5);
  Tensor u1 = RandomCrop(8)(x[0]);
  nabla::manual_seed(5);
  EXPECT_TRUE(nabla::equal(RandomCrop(8)(x[0]), u1));
}

TEST(Transforms, BatchDrawsPerExampleAndMatchesSingleDraws) {
  Tensor one = nabla::arange(0, 12).to(nabla::kFloat32).reshape({1, 3, 4});
  Tensor x = nabla::stack(std::vector<Tensor>(64, one));
  // Per-example draws: a batch of identical images gets both flipped and unflipped copies.
  Tensor out = RandomHorizontalFlip(0.5, 1).batch(x);
  int flipped = 0;
  for (int i = 0; i < 64; ++i) flipped += nabla::equal(out[i], hflip(one));
  EXPECT_GT(flipped, 10);
  EXPECT_LT(flipped, 54);
  // batch() on N = 1 takes the same draws as operator().
  RandomCrop a(3, 1, 9), b(3, 1, 9);
  for (int k = 0; k < 5; ++k) EXPECT_TRUE(nabla::equal(a.batch(one.unsqueeze(0))[0], b(one)));
  RandomRotation ra(20, Interpolation::kNearest, 0, 2), rb(20, Interpolation::kNearest, 0, 2);
  EXPECT_TRUE(nabla::equal(ra.batch(one.unsqueeze(0))[0], rb(one)));
}

TEST(Transforms, FlipProbabilityIsP) {
  Tensor x = nabla::arange(0, 4).to(nabla::kFloat32).reshape({1, 1, 4});
  for (double p : {0.2, 0.5, 0.9}) {
    RandomHorizontalFlip f(p, 123);
    int n = 4000, flipped = 0;
    for (int i = 0; i < n; ++i) flipped += f(x).to_vector<float>()[0] == 3.f;
    double rate = double(flipped) / n, sd = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(rate, p, 5 * sd) << "p = " << p;
  }
}

TEST(Transforms, RandomCropStaysInsidePaddedImage) {
  Tensor x = nabla::ones({1, 6, 6});
  RandomCrop rc(6, 2, 5);
  bool saw_pad = false, saw_full = false;
  for (int i = 0; i < 200; ++i) {
    Tensor y = rc(x);
    EXPECT_EQ(y.shape(), (nabla::Shape{1, 6, 6}));
    double s = y.sum().item<double>();
    EXPECT_GE(s, 4 * 4);  // an offset of at most 2 in each direction keeps >= 4 x 4 of the image
    saw_pad |= s < 36;
    saw_full |= s == 36;
  }
  EXPECT_TRUE(saw_pad);
  EXPECT_TRUE(saw_full);
  EXPECT_EQ(RandomCrop({4, 5}, 1, 2)(x).shape(), (nabla::Shape{1, 4, 5}));
  // Rotation preserves uint8 dtype and shape; angle 0..degrees range.
  Tensor u = nabla::full({2, 1, 9, 9}, 200, nabla::kUInt8);
  Tensor r = RandomRotation(5, Interpolation::kBilinear, 0, 1).batch(u);
  EXPECT_EQ(r.dtype(), nabla::kUInt8);
  EXPECT_EQ(r.to_vector<int>()[4 * 9 + 4], 200);  // the centre never moves
}

TEST(Transforms, Errors) {
  expect_error([] { ToTensor()(nabla::zeros({2})); }, {"ToTensor", "[2]"});
  expect_error([] { Normalize({0.5, 0.5}, {1.0})(nabla::zeros({2, 3, 3})); }, {"Normalize"});
  expect_error([] { Normalize({0.5, 0.5}, {1.0, 1.0})(nabla::zeros({3, 3, 3})); }, {"Normalize", "C = 3"});
  expect_error(
      [] {
        normalize(nabla::zeros({1, 3, 3}, nabla::kUInt8), {0.5}, {0.5});
      },
      {"Normalize", "uint8"});
  expect_error([] { Normalize({0.5}, {0.0}); }, {"Normalize", "zero"});
  expect_error([] { RandomCrop(10, 1, 0)(nabla::zeros({1, 6, 6})); }, {"RandomCrop", "10 x 10", "8 x 8"});
  expect_error([] { Resize(3, 3)(nabla::zeros({2, 2}, nabla::kInt64)); }, {"Resize", "int64"});
  expect_error([] { RandomHorizontalFlip(1.5); }, {"RandomHorizontalFlip", "1.5"});
  expect_error([] { RandomRotation(-1); }, {"RandomRotation"});
  expect_error([] { Compose(std::vector<AnyTransform>{AnyTransform()}); }, {"Compose", "empty"});
}

// In a DataLoader the random transforms draw from the per-batch generator, so augmented batches
// do not depend on the number of workers.
TEST(Transforms, DataLoaderAugmentationIndependentOfWorkers) {
  Tensor x = nabla::rand({40, 1, 6, 6}, {}, nullptr);
  Tensor y = nabla::arange(0, 40);
  auto run = [&](int workers) {
    Compose aug(RandomCrop(6, 2), RandomHorizontalFlip(0.5), RandomRotation(10.0));
    nabla::data::DataLoader loader(nabla::data::TensorDataset(x, y), {.batch_size = 8,
                                                                      .shuffle = true,
                                                                      .num_workers = workers,
                                                                      .seed = 3,
                                                                      .transform = batch_transform(aug)});
    std::vector<Tensor> out;
    for (auto& b : loader) out.push_back(b.data);
    return out;
  };
  auto a = run(0), b = run(2);
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  bool changed = false;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(nabla::equal(a[i], b[i])) << "batch " << i;
  for (size_t i = 0; i < a.size(); ++i) changed |= !nabla::equal(a[i], a[(i + 1) % a.size()]);
  EXPECT_TRUE(changed);
}
