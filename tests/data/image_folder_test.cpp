// ImageFolder and read_png: PNG variants decoded as documented (expected arrays made with PIL by
// tests/fixtures/data/gen_transforms.py), torchvision's class/file order, corrupt files.
#include "nabla/data/datasets/image_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/temp_dir.h"
#include "nabla/io/npy.h"
#include "nabla/ops.h"

using namespace data_test;
using namespace nabla::data;
using datasets::ImageMode;
using datasets::read_png;
namespace fs = std::filesystem;

namespace {
std::string png_fixture(const std::string& name) {
  return std::string(NABLA_FIXTURE_DIR) + "/data/png/" + name;
}
nabla::Tensor expected(const std::string& name) { return nabla::io::load_npy(png_fixture(name + ".npy")); }
Bytes read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

TEST(ReadPng, DecodesEveryVariantAsDocumented) {
  for (const char* name :
       {"gray8", "rgb8", "rgba8", "gray_alpha", "palette", "palette_trns", "gray16", "gray1"}) {
    SCOPED_TRACE(name);
    nabla::Tensor got = read_png(png_fixture(std::string(name) + ".png"));
    nabla::Tensor want = expected(name);
    EXPECT_EQ(got.dtype(), nabla::kUInt8);
    ASSERT_EQ(got.shape(), want.shape());
    EXPECT_TRUE(nabla::equal(got, want));
  }
}

TEST(ReadPng, ModesConvertLikePil) {
  EXPECT_TRUE(nabla::equal(read_png(png_fixture("rgb8.png"), ImageMode::kGray), expected("rgb8_as_gray")));
  EXPECT_TRUE(nabla::equal(read_png(png_fixture("gray8.png"), ImageMode::kRGB), expected("gray8_as_rgb")));
  EXPECT_EQ(read_png(png_fixture("palette.png"), ImageMode::kRGB).shape(), (nabla::Shape{4, 5, 3}));
}

TEST(ReadPng, CorruptFilesThrowNamingTheFile) {
  TempDir dir;
  Bytes good = read_all(png_fixture("rgb8.png"));
  write_bytes(dir / "notpng.png", Bytes{'h', 'e', 'l', 'l', 'o'});
  expect_error([&] { read_png(dir / "notpng.png"); }, {"read_png", dir / "notpng.png", "not a PNG"});
  write_bytes(dir / "cut.png", Bytes(good.begin(), good.begin() + good.size() / 2));
  expect_error([&] { read_png(dir / "cut.png"); }, {"read_png", dir / "cut.png", "corrupt PNG"});
  Bytes crc = good;
  crc[20] ^= 0x40;  // inside IHDR: its CRC no longer matches
  write_bytes(dir / "crc.png", crc);
  expect_error([&] { read_png(dir / "crc.png"); }, {dir / "crc.png", "corrupt PNG"});
  Bytes idat = good;
  for (size_t i = 45; i < idat.size() - 20; ++i) idat[i] = static_cast<uint8_t>(i * 37);  // garbage IDAT
  write_bytes(dir / "idat.png", idat);
  expect_error([&] { read_png(dir / "idat.png"); }, {dir / "idat.png", "corrupt PNG"});
  expect_error([&] { read_png(dir / "missing.png"); }, {dir / "missing.png", "cannot open"});
}

TEST(ImageFolder, ClassOrderAndFileOrderFollowTorchvision) {
  TempDir dir;
  Bytes g = read_all(png_fixture("gray8.png")), c = read_all(png_fixture("rgb8.png"));
  write_bytes(dir / "dog/b.png", g);
  write_bytes(dir / "dog/A.PNG", g);
  write_bytes(dir / "dog/notes.txt", Bytes{'x'});
  write_bytes(dir / "cat/sub/z.png", c);
  write_bytes(dir / "cat/y.png", c);
  write_bytes(dir / "Zebra/1.png", g);
  datasets::ImageFolder ds(dir.str());
  EXPECT_EQ(ds.classes(), (std::vector<std::string>{"Zebra", "cat", "dog"}));
  ASSERT_EQ(ds.size(), 5);
  std::vector<std::string> rel;
  for (const auto& s : ds.samples()) rel.push_back(fs::relative(s.path, dir.str()).string());
  EXPECT_EQ(
      rel, (std::vector<std::string>{"Zebra/1.png", "cat/y.png", "cat/sub/z.png", "dog/A.PNG", "dog/b.png"}));
  auto e = ds.get(2);
  EXPECT_EQ(e.target.item<int64_t>(), 1);
  EXPECT_TRUE(nabla::equal(e.data, expected("rgb8")));
  EXPECT_EQ(ds.get(0).data.shape(), (nabla::Shape{4, 5, 1}));
}

TEST(ImageFolder, TransformAndBatch) {
  TempDir dir;
  Bytes g = read_all(png_fixture("gray8.png"));
  write_bytes(dir / "a/1.png", g);
  write_bytes(dir / "b/2.png", g);
  datasets::ImageFolder ds(dir.str(), {.mode = ImageMode::kRGB, .transform = transforms::ToTensor()});
  auto e = ds.get(1);
  EXPECT_EQ(e.data.shape(), (nabla::Shape{3, 4, 5}));
  EXPECT_EQ(e.target.item<int64_t>(), 1);
  auto b = ds.get_batch({0, 1});
  EXPECT_EQ(b.data.shape(), (nabla::Shape{2, 3, 4, 5}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST(ImageFolder, Errors) {
  TempDir dir;
  expect_error([&] { datasets::ImageFolder(dir / "none"); }, {"ImageFolder", "is not a directory"});
  expect_error([&] { datasets::ImageFolder(dir.str()); }, {"ImageFolder", "couldn't find any class folder"});
  write_bytes(dir / "a/1.png", read_all(png_fixture("gray8.png")));
  fs::create_directories(dir / "empty");
  expect_error([&] { datasets::ImageFolder(dir.str()); }, {"ImageFolder", "no .png file", "'empty'"});
  fs::remove(dir / "empty");
  write_bytes(dir / "a/2.png", Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0});
  datasets::ImageFolder ds(dir.str());
  expect_error([&] { ds.get(1); }, {dir / "a/2.png", "corrupt PNG"});
  EXPECT_NO_THROW(ds.get(0));
}
