// MNIST / FashionMNIST: crafted folders for the error paths, and the real Debian
// dataset-fashion-mnist files checked against values numpy reports for them.
#include "nabla/data/datasets/mnist.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "data/temp_dir.h"
#include "nabla/data/datasets/fashion_mnist.h"
#include "nabla/ops.h"

using namespace data_test;
using namespace nabla::data;
using nabla::Tensor;

namespace {

// A 3-image MNIST folder (images 2 x 3) with labels 4, 5, 6.
void write_tiny_mnist(const TempDir& dir, bool train, int n_images = 3, int n_labels = 3, bool gz = false) {
  std::string split = train ? "train" : "t10k";
  Bytes pixels(n_images * 6);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 10);
  Bytes labels;
  for (int i = 0; i < n_labels; ++i) labels.push_back(static_cast<uint8_t>(4 + i));
  Bytes img = idx_bytes(0x08, {uint32_t(n_images), 2, 3}, pixels),
        lbl = idx_bytes(0x08, {uint32_t(n_labels)}, labels);
  std::string ext = gz ? ".gz" : "";
  write_bytes(dir / (split + "-images-idx3-ubyte" + ext), gz ? gzip_stored(img) : img);
  write_bytes(dir / (split + "-labels-idx1-ubyte" + ext), gz ? gzip_stored(lbl) : lbl);
}

}  // namespace

TEST(MNIST, LoadsTinyFolder) {
  TempDir dir;
  write_tiny_mnist(dir, true);
  write_tiny_mnist(dir, false, 1, 1, /*gz=*/true);
  datasets::MNIST train(dir.str(), true), test(dir.str(), false);
  EXPECT_EQ(train.size(), 3);
  EXPECT_EQ(test.size(), 1);
  EXPECT_EQ(train.images().shape(), (nabla::Shape{3, 2, 3}));
  EXPECT_EQ(train.labels().dtype(), nabla::kInt64);
  Example e = train.get(1);
  EXPECT_EQ(e.data.dtype(), nabla::kUInt8);
  EXPECT_EQ(e.data.shape(), (nabla::Shape{2, 3}));
  EXPECT_EQ(e.data.to_vector<int>(), (std::vector<int>{60, 70, 80, 90, 100, 110}));
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item<int64_t>(), 5);
  Example b = train.get_batch({2, 0});
  EXPECT_EQ(b.data.shape(), (nabla::Shape{2, 2, 3}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(b.data.to_vector<int>()[0], 120);
  EXPECT_EQ(train.classes().size(), 10u);
}

TEST(MNIST, TransformAppliedToExamplesAndBatches) {
  TempDir dir;
  write_tiny_mnist(dir, true);
  datasets::MNIST ds(dir.str(), true, transforms::ToTensor());
  Example e = ds.get(0);
  EXPECT_EQ(e.data.shape(), (nabla::Shape{1, 2, 3}));
  EXPECT_EQ(e.data.dtype(), nabla::kFloat32);
  EXPECT_FLOAT_EQ(e.data.to_vector<float>()[1], 10.f / 255.f);
  Example b = ds.get_batch({0, 1});
  EXPECT_EQ(b.data.shape(), (nabla::Shape{2, 1, 2, 3}));
  EXPECT_TRUE(nabla::equal(b.data[0], e.data));
}

TEST(MNIST, Errors) {
  TempDir dir;
  expect_error([&] { datasets::MNIST(dir.str(), true); }, {"MNIST", "train-images-idx3-ubyte", dir.str()});
  write_tiny_mnist(dir, true, 3, 2);
  expect_error([&] { datasets::MNIST(dir.str(), true); },
               {"MNIST", "count mismatch", "train-images-idx3-ubyte", "3 images", "train-labels-idx1-ubyte",
                "2 labels"});
  write_tiny_mnist(dir, false);
  datasets::MNIST ok(dir.str(), false);
  expect_error([&] { ok.get(3); }, {"MNIST", "index 3", "size 3"});
  expect_error([&] { ok.get_batch({0, -1}); }, {"MNIST", "index -1"});
  // A label file where the image file should be.
  write_bytes(dir / "t10k-images-idx3-ubyte", idx_bytes(0x08, {3}, {1, 2, 3}));
  expect_error([&] { datasets::MNIST(dir.str(), false); }, {"MNIST", "t10k-images-idx3-ubyte", "[N, H, W]"});
}

TEST(FashionMNIST, MissingFilesNameTheDebianPackage) {
  TempDir dir;
  expect_error([&] { datasets::FashionMNIST(dir.str(), true); },
               {"FashionMNIST", "train-images-idx3-ubyte", "dataset-fashion-mnist"});
}

// Reference values computed once with numpy from the same files (torchvision's FashionMNIST
// parses them identically):
//   im = np.frombuffer(gzip.open(f).read(), np.uint8, offset=16).reshape(-1, 28, 28)
//   train: labels[:10] = 9 0 0 3 0 2 7 2 5 5, im.sum() = 3431114169, im[0].sum() = 76247,
//          im[-1].sum() = 16684, im[0, 14, 14] = 217, labels.sum() = 270000
//   test:  labels[:10] = 9 2 1 1 6 1 4 6 5 7, im.sum() = 573469082, im[0].sum() = 33456,
//          im[-1].sum() = 24390, im[0, 14, 14] = 110, labels.sum() = 45000
class FashionMNISTReal : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::string(datasets::FashionMNIST::kDefaultRoot) +
                                 "/t10k-labels-idx1-ubyte.gz"))
      GTEST_SKIP() << "Debian package dataset-fashion-mnist is not installed";
  }
  static int64_t isum(const Tensor& t) { return t.to(nabla::kInt64).sum().item<int64_t>(); }
};

TEST_F(FashionMNISTReal, Train) {
  datasets::FashionMNIST ds;  // default root, train split
  ASSERT_EQ(ds.size(), 60000);
  EXPECT_EQ(ds.images().shape(), (nabla::Shape{60000, 28, 28}));
  std::vector<int64_t> first = ds.labels().slice(0, 0, 10).to_vector<int64_t>();
  EXPECT_EQ(first, (std::vector<int64_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  EXPECT_EQ(isum(ds.images()), 3431114169LL);
  EXPECT_EQ(isum(ds.images()[0]), 76247);
  EXPECT_EQ(isum(ds.images()[59999]), 16684);
  EXPECT_EQ(ds.get(0).data.to_vector<int>()[14 * 28 + 14], 217);
  EXPECT_EQ(isum(ds.labels()), 270000);
  EXPECT_EQ(ds.classes()[9], "Ankle boot");
}

TEST_F(FashionMNISTReal, TestSplitWithNormalize) {
  using namespace transforms;
  datasets::FashionMNIST ds(datasets::FashionMNIST::kDefaultRoot, false,
                            Compose(ToTensor(), Normalize({0.2860}, {0.3530})));
  ASSERT_EQ(ds.size(), 10000);
  std::vector<int64_t> first = ds.labels().slice(0, 0, 10).to_vector<int64_t>();
  EXPECT_EQ(first, (std::vector<int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  EXPECT_EQ(isum(ds.images()), 573469082LL);
  EXPECT_EQ(isum(ds.images()[0]), 33456);
  EXPECT_EQ(isum(ds.images()[9999]), 24390);
  EXPECT_EQ(isum(ds.labels()), 45000);
  Example e = ds.get(0);
  EXPECT_EQ(e.data.shape(), (nabla::Shape{1, 28, 28}));
  EXPECT_FLOAT_EQ(e.data.to_vector<float>()[14 * 28 + 14], (110.f / 255.f - 0.2860f) / 0.3530f);
  Example b = ds.get_batch({5, 0, 9999});
  EXPECT_EQ(b.data.shape(), (nabla::Shape{3, 1, 28, 28}));
  EXPECT_TRUE(nabla::equal(b.data[1], e.data));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{1, 9, ds.labels()[9999].item<int64_t>()}));
}
