// IDX reader: every element type, plain and gzip, and each class of bad file giving a
// nabla::Error that names the file and the problem (no crash, no huge allocation).
#include "nabla/data/idx.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "data/temp_dir.h"
#include "nabla/runtime.h"

using namespace data_test;
using nabla::Tensor;
using nabla::data::read_idx;

namespace {

Bytes iota_bytes(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
  return b;
}

}  // namespace

TEST(Idx, ReadsPlainUbyte) {
  TempDir dir;
  Bytes data = iota_bytes(2 * 3 * 4);
  write_bytes(dir / "x.idx", idx_bytes(0x08, {2, 3, 4}, data));
  Tensor t = read_idx(dir / "x.idx");
  EXPECT_EQ(t.dtype(), nabla::kUInt8);
  EXPECT_EQ(t.shape(), (nabla::Shape{2, 3, 4}));
  EXPECT_EQ(t.to_vector<uint8_t>(), data);
}

TEST(Idx, ReadsGzipByContentNotName) {
  TempDir dir;
  Bytes data = iota_bytes(5 * 70000);  // several stored blocks
  write_bytes(dir / "x.gz", gzip_stored(idx_bytes(0x08, {5, 70000}, data)));
  write_bytes(dir / "noext", gzip_stored(idx_bytes(0x08, {5, 70000}, data)));
  EXPECT_EQ(read_idx(dir / "x.gz").to_vector<uint8_t>(), data);
  EXPECT_EQ(read_idx(dir / "noext").shape(), (nabla::Shape{5, 70000}));
}

TEST(Idx, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  Bytes file = idx_bytes(0x08, {6}, {1, 2, 3, 4, 5, 6});
  Bytes a = gzip_stored(Bytes(file.begin(), file.begin() + 7));
  Bytes b = gzip_stored(Bytes(file.begin() + 7, file.end()));
  a.insert(a.end(), b.begin(), b.end());
  write_bytes(dir / "multi.gz", a);
  EXPECT_EQ(read_idx(dir / "multi.gz").to_vector<int>(), (std::vector<int>{1, 2, 3, 4, 5, 6}));
}

TEST(Idx, DecodesBigEndianTypes) {
  TempDir dir;
  // int32: -2, 0x01020304
  write_bytes(dir / "i32", idx_bytes(0x0C, {2}, {0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4}));
  EXPECT_EQ(read_idx(dir / "i32").to_vector<int32_t>(), (std::vector<int32_t>{-2, 0x01020304}));
  // int16 and int8 widen to int32
  write_bytes(dir / "i16", idx_bytes(0x0B, {2}, {0xff, 0xfe, 0x01, 0x00}));
  Tensor i16 = read_idx(dir / "i16");
  EXPECT_EQ(i16.dtype(), nabla::kInt32);
  EXPECT_EQ(i16.to_vector<int32_t>(), (std::vector<int32_t>{-2, 256}));
  write_bytes(dir / "i8", idx_bytes(0x09, {3}, {0x80, 0x7f, 0xff}));
  EXPECT_EQ(read_idx(dir / "i8").to_vector<int32_t>(), (std::vector<int32_t>{-128, 127, -1}));
  // float32 1.5 = 0x3fc00000, float64 -0.25 = 0xbfd0000000000000
  write_bytes(dir / "f32", idx_bytes(0x0D, {1, 1}, {0x3f, 0xc0, 0, 0}));
  Tensor f = read_idx(dir / "f32");
  EXPECT_EQ(f.dtype(), nabla::kFloat32);
  EXPECT_EQ(f.item<float>(), 1.5f);
  write_bytes(dir / "f64", idx_bytes(0x0E, {1}, {0xbf, 0xd0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(read_idx(dir / "f64").item<double>(), -0.25);
}

TEST(Idx, ZeroSizedDim) {
  TempDir dir;
  write_bytes(dir / "z", idx_bytes(0x08, {0, 28, 28}, {}));
  EXPECT_EQ(read_idx(dir / "z").shape(), (nabla::Shape{0, 28, 28}));
}

TEST(Idx, MissingFile) {
  TempDir dir;
  expect_error([&] { read_idx(dir / "nope"); }, {"read_idx", dir / "nope", "cannot open"});
}

TEST(Idx, WrongMagic) {
  TempDir dir;
  Bytes b = idx_bytes(0x08, {2}, {1, 2});
  b[0] = 0x12;
  write_bytes(dir / "bad", b);
  expect_error([&] { read_idx(dir / "bad"); }, {dir / "bad", "wrong magic number 12 00 08 01"});
  write_bytes(dir / "bad.gz", gzip_stored(b));
  expect_error([&] { read_idx(dir / "bad.gz"); }, {dir / "bad.gz", "wrong magic"});
}

TEST(Idx, UnsupportedTypeCodeAndDims) {
  TempDir dir;
  write_bytes(dir / "t", idx_bytes(0x0A, {2}, {1, 2}));
  expect_error([&] { read_idx(dir / "t"); }, {dir / "t", "unsupported element type code 0x0a"});
  write_bytes(dir / "d0", Bytes{0, 0, 8, 0});
  expect_error([&] { read_idx(dir / "d0"); }, {dir / "d0", "bad number of dimensions 0"});
  write_bytes(dir / "d9", idx_bytes(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1}, {7}));
  expect_error([&] { read_idx(dir / "d9"); }, {dir / "d9", "bad number of dimensions 9"});
}

TEST(Idx, TruncatedFiles) {
  TempDir dir;
  write_bytes(dir / "short", Bytes{0, 0});
  expect_error([&] { read_idx(dir / "short"); }, {dir / "short", "truncated"});
  write_bytes(dir / "hdr", Bytes{0, 0, 8, 3, 0, 0, 0, 2});  // 3 dims, only 1 present
  expect_error([&] { read_idx(dir / "hdr"); }, {dir / "hdr", "truncated header"});
  Bytes b = idx_bytes(0x08, {10, 28, 28}, iota_bytes(10 * 28 * 28 - 1));
  write_bytes(dir / "data", b);
  expect_error([&] { read_idx(dir / "data"); }, {dir / "data", "truncated", "[10, 28, 28]", "7839"});
  write_bytes(dir / "data.gz", gzip_stored(b));
  expect_error([&] { read_idx(dir / "data.gz"); }, {dir / "data.gz", "truncated", "7839"});
}

TEST(Idx, TrailingBytes) {
  TempDir dir;
  write_bytes(dir / "long", idx_bytes(0x08, {2}, {1, 2, 3}));
  expect_error([&] { read_idx(dir / "long"); }, {dir / "long", "trailing"});
  write_bytes(dir / "long.gz", gzip_stored(idx_bytes(0x08, {2}, {1, 2, 3})));
  expect_error([&] { read_idx(dir / "long.gz"); }, {dir / "long.gz", "trailing"});
}

// A header claiming 2^31 x 2^31 bytes must fail fast, before any allocation of that size.
TEST(Idx, HugeHeaderClaimDoesNotAllocate) {
  TempDir dir;
  Bytes b = idx_bytes(0x08, {0x80000000u, 0x80000000u}, iota_bytes(100));
  write_bytes(dir / "huge", b);
  write_bytes(dir / "huge.gz", gzip_stored(b));
  nabla::reset_memory_stats();
  auto t0 = std::chrono::steady_clock::now();
  expect_error([&] { read_idx(dir / "huge"); }, {dir / "huge", "truncated", "[2147483648, 2147483648]"});
  expect_error([&] { read_idx(dir / "huge.gz"); }, {dir / "huge.gz", "truncated"});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, 1.0);
  EXPECT_LT(nabla::memory_stats().peak_bytes, size_t(1) << 20);
  // Products past 2^63 are reported as an overflow.
  write_bytes(dir / "ovf", idx_bytes(0x0E, {0xffffffffu, 0xffffffffu, 0xffffffffu}, {}));
  expect_error([&] { read_idx(dir / "ovf"); }, {dir / "ovf", "overflow"});
  // ... also when another dimension is 0 (numel and strides would still be undefined).
  write_bytes(dir / "ovf0", idx_bytes(0x0E, {0u, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {}));
  expect_error([&] { read_idx(dir / "ovf0"); }, {dir / "ovf0", "overflow"});
}

TEST(Idx, CorruptGzip) {
  TempDir dir;
  Bytes ok = gzip_stored(idx_bytes(0x08, {4}, {1, 2, 3, 4}));
  Bytes bad_crc = ok;
  bad_crc[bad_crc.size() - 6] ^= 0xff;
  write_bytes(dir / "crc.gz", bad_crc);
  expect_error([&] { read_idx(dir / "crc.gz"); },
               {dir / "crc.gz", "corrupt gzip stream", "incorrect data check"});
  Bytes bad_block = ok;
  bad_block[10] = 0x07;  // deflate block type 3 is reserved
  write_bytes(dir / "block.gz", bad_block);
  expect_error([&] { read_idx(dir / "block.gz"); }, {dir / "block.gz", "corrupt gzip stream"});
  Bytes cut(ok.begin(), ok.begin() + 14);  // stream ends inside the first block
  write_bytes(dir / "cut.gz", cut);
  expect_error([&] { read_idx(dir / "cut.gz"); }, {dir / "cut.gz", "truncated gzip stream"});
  Bytes garbage = ok;
  garbage.push_back('x');
  write_bytes(dir / "garbage.gz", garbage);
  expect_error([&] { read_idx(dir / "garbage.gz"); }, {dir / "garbage.gz", "trailing garbage"});
}

TEST(Idx, ParseInMemory) {
  Bytes b = idx_bytes(0x08, {3}, {9, 8, 7});
  EXPECT_EQ(nabla::data::parse_idx(b.data(), b.size(), "buf").to_vector<int>(), (std::vector<int>{9, 8, 7}));
  expect_error([&] { nabla::data::parse_idx(b.data(), b.size() - 1, "buf"); }, {"buf", "truncated"});
}
