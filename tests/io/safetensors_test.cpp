// safetensors: the spec's byte-exact vectors, round trips, and one test per malformed-input class
// (each checks the error names the file and the problem).
#include "nabla/io/safetensors.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "data/temp_dir.h"
#include "nabla/io/atomic_file.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"

namespace nabla::io {
namespace {

using data_test::expect_error;
using data_test::TempDir;

std::string u64le(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
  return s;
}
// A file from a header text (used as is, no padding) and raw data bytes.
std::string file_of(const std::string& header, const std::string& data = "") {
  return u64le(header.size()) + header + data;
}
SafetensorsFile parse(const std::string& bytes) {
  return parse_safetensors(bytes.data(), bytes.size(), "t.st");
}
std::string zeros_bytes(size_t n) { return std::string(n, '\0'); }

TEST(Safetensors, WritesTheSpecsByteExactVectors) {
  nn::OrderedDict<Tensor> one;
  one.insert("attn.0", arange(6).to(kFloat32).reshape({1, 2, 3}));
  std::string b = serialize_safetensors(one);
  ASSERT_EQ(b.size(), 96u);
  EXPECT_EQ(b.substr(0, 8), u64le(64));
  EXPECT_EQ(b.substr(8, 64), R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})");
  const unsigned char data[] = {0, 0, 0,    0,    0, 0, 0x80, 0x3F, 0, 0, 0,    0x40,
                                0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xA0, 0x40};
  EXPECT_EQ(b.substr(72), std::string(reinterpret_cast<const char*>(data), 24));

  nn::OrderedDict<Tensor> padded;
  padded.insert("attn0", arange(6).to(kFloat32).reshape({1, 1, 2, 3}));
  b = serialize_safetensors(padded);
  EXPECT_EQ(b.substr(0, 8), u64le(72));
  EXPECT_EQ(b.substr(8 + 65, 7), "       ");

  EXPECT_EQ(serialize_safetensors({}), u64le(8) + "{}      ");
  EXPECT_EQ(serialize_safetensors({}, {{"framework", "pt"}}),
            u64le(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
}

TEST(Safetensors, SortsByDtypeThenNameLikeTheReferenceWriter) {
  nn::OrderedDict<Tensor> sd;
  sd.insert("b", zeros({2}, kFloat32));
  sd.insert("a", zeros({1}, kFloat32));
  sd.insert("c", zeros({1}, kInt64));
  sd.insert("d", zeros({3}, kBool));
  auto h = parse(serialize_safetensors(sd));
  ASSERT_EQ(h.tensors.size(), 4u);
  EXPECT_EQ(h.tensors.keys(), (std::vector<std::string>{"c", "a", "b", "d"}));  // I64 > F32 > BOOL
}

TEST(Safetensors, RoundTripsEveryDtypeScalarsEmptyAndViews) {
  TempDir dir;
  nn::OrderedDict<Tensor> sd;
  for (DType t : {kBool, kUInt8, kInt32, kInt64, kFloat16, kBFloat16, kFloat32, kFloat64})
    sd.insert(std::string("x_") + dtype_name(t), arange(12).reshape({3, 4}).to(t));
  sd.insert("scalar", full({}, 2.5, kFloat64));
  sd.insert("empty", zeros({0, 3}));
  sd.insert("view", arange(12).to(kFloat32).reshape({3, 4}).t());  // non-contiguous: saved as laid out
  sd.insert("weird name/../\"quoted\" é", ones({2}));              // names are data, never paths
  save(sd, dir / "m.safetensors", {{"epoch", "3"}});
  auto f = load_safetensors(dir / "m.safetensors");
  EXPECT_EQ(f.metadata, (Metadata{{"epoch", "3"}}));
  ASSERT_EQ(f.tensors.size(), sd.size());
  for (const auto& [name, t] : sd) {
    const Tensor& u = f.tensors.at(name);
    EXPECT_EQ(u.dtype(), t.dtype()) << name;
    EXPECT_EQ(u.shape(), t.shape()) << name;
    EXPECT_EQ(u.to_vector<double>(), t.to_vector<double>()) << name;
  }
  // Only the file itself: the temporary file was renamed, none left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.str()), {}), 1);
}

TEST(Safetensors, LoadIntoReplacesWeightsAndAFailedLoadChangesNothing) {
  TempDir dir;
  manual_seed(0);
  nn::Sequential a(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2));
  nn::Sequential b(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2));
  save(a->state_dict(), dir / "a.safetensors");
  load_into(*b, dir / "a.safetensors");
  for (const auto& [k, v] : a->state_dict())
    EXPECT_EQ(b->state_dict().at(k).to_vector<float>(), v.to_vector<float>());

  // A file whose second layer has the wrong shape: the first layer must not be overwritten.
  nn::Sequential c(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 5));
  save(c->state_dict(), dir / "c.safetensors");
  auto before = b->state_dict().at("0.weight").clone();
  expect_error([&] { load_into(*b, dir / "c.safetensors"); }, {"size mismatch for 2.weight"});
  EXPECT_EQ(b->state_dict().at("0.weight").to_vector<float>(), before.to_vector<float>());

  // A corrupt file (last byte missing): nothing is loaded either.
  std::string bytes = read_file(dir / "c.safetensors");
  write_file_atomic(dir / "bad.safetensors", bytes.substr(0, bytes.size() - 1));
  expect_error([&] { load_into(*b, dir / "bad.safetensors"); }, {"bad.safetensors", "truncated"});
  EXPECT_EQ(b->state_dict().at("0.weight").to_vector<float>(), before.to_vector<float>());
}

TEST(Safetensors, SaveReplacesAnExistingFileAndRejectsBadNames) {
  TempDir dir;
  save({{"x", ones({2})}}, dir / "f.safetensors");
  save({{"y", zeros({3})}}, dir / "f.safetensors");
  EXPECT_EQ(load(dir / "f.safetensors").keys(), std::vector<std::string>{"y"});
  expect_error([&] { save({{"__metadata__", ones({1})}}, dir / "g.safetensors"); }, {"reserved"});
  expect_error([&] { save({{"", ones({1})}}, dir / "g.safetensors"); }, {"empty name"});
  expect_error([&] { save({{"u", Tensor()}}, dir / "g.safetensors"); }, {"\"u\" is undefined"});
  expect_error([&] { save({{"\xff", ones({1})}}, dir / "g.safetensors"); }, {"not valid UTF-8"});
  EXPECT_FALSE(std::filesystem::exists(dir / "g.safetensors"));
  expect_error([&] { load(dir / "missing.safetensors"); }, {"cannot open", "missing.safetensors"});
}

// ---- malformed input, one class per test ---------------------------------------------------

TEST(SafetensorsBad, Truncated) {
  expect_error([] { parse("\x08\0\0"); }, {"t.st", "fewer than the 8-byte header length"});
  expect_error([] { parse(u64le(100) + "{}"); }, {"header length 100 runs past the end", "truncated"});
  std::string ok = file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", zeros_bytes(8));
  expect_error([&] { parse(ok.substr(0, ok.size() - 2)); },
               {"declares 8 data bytes but the file has 6", "truncated"});
  EXPECT_EQ(parse(ok).tensors.at("a").numel(), 2);
}

TEST(SafetensorsBad, TrailingBytes) {
  std::string f = file_of(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "xyPK");
  expect_error([&] { parse(f); }, {"declares 2 data bytes but the file has 4", "trailing bytes"});
}

TEST(SafetensorsBad, HugeHeaderLength) {
  expect_error([] { parse(u64le(100'000'001) + "{}"); }, {"exceeds the limit of 100000000"});
  expect_error([] { parse(u64le(~0ull) + "{}"); }, {"exceeds the limit"});
}

TEST(SafetensorsBad, BadJson) {
  expect_error([] { parse(file_of("{\"a\":")); }, {"t.st", "not valid JSON"});
  expect_error([] { parse(file_of("[1,2]")); }, {"must be an object"});
  expect_error([] { parse(file_of("{\"\xff\":1}")); }, {"not valid JSON"});  // not UTF-8
  expect_error([] { parse(file_of(std::string("{}\0\0", 4))); }, {"not valid JSON"});
  expect_error([] { parse(file_of(R"({"a":{"dtype":"F32","shape":[[[1]]],"data_offsets":[0,4]}})")); },
               {"nests deeper"});
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"U8","dtype":"F32","shape":[],"data_offsets":[0,4]}})")); },
      {"duplicate key \"dtype\""});
  expect_error([] { parse(file_of(R"({"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}})")); },
               {"unexpected key \"x\""});
  expect_error([] { parse(file_of(R"({"a":{"dtype":"F32","shape":[]}})")); }, {"needs the keys"});
  expect_error([] { parse(file_of(R"({"__metadata__":{"k":1}})")); },
               {"__metadata__[\"k\"] must be a string"});
  // Leading/trailing JSON whitespace (the reference accepts it) is fine.
  EXPECT_TRUE(parse(file_of(" \t{}\r\n  ")).tensors.empty());
}

TEST(SafetensorsBad, DuplicateTensorNames) {
  std::string h = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                  R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  expect_error([&] { parse(file_of(h, "ab")); }, {"duplicate key \"a\""});
}

TEST(SafetensorsBad, WrongDtype) {
  expect_error([] { parse(file_of(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", "abcd")); },
               {"tensor \"a\": unknown dtype \"F33\""});
  expect_error([] { parse(file_of(R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", "abcd")); },
               {"dtype must be a string"});
  // Valid safetensors, but no nabla type: named clearly, nothing allocated.
  expect_error([] { parse(file_of(R"({"a":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})", "abcd")); },
               {"dtype I8, which nabla has no type for"});
  // Sub-byte dtypes must fill whole bytes.
  expect_error([] { parse(file_of(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})", "a")); },
               {"not a whole number of bytes"});
  // A BOOL byte other than 0/1 is not a bool.
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", "\x01\x02")); },
      {"BOOL but holds the byte 2"});
}

TEST(SafetensorsBad, ShapeAndByteCountDisagree) {
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}})", zeros_bytes(8))); },
      {"need 16 bytes but data_offsets cover 8"});
  expect_error([] { parse(file_of(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd")); },
               {"non-negative integer"});
  expect_error([] { parse(file_of(R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", "abcd")); },
               {"non-negative integer"});
  expect_error([] { parse(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "abcd")); },
               {"end before they begin"});
}

TEST(SafetensorsBad, HugeDeclaredSizes) {
  // Overflowing products are errors, never allocations.
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})")); },
      {"element count overflows"});
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})")); },
      {"byte size overflows"});
  // A zero size does not make the other sizes' product defined.
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})")); },
      {"overflows 64 bits"});
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616]}})")); },
      {"below 2^64"});
  // Consistent but enormous: rejected because the file does not hold the bytes.
  expect_error(
      [] {
        parse(file_of(R"({"a":{"dtype":"U8","shape":[1000000000000],"data_offsets":[0,1000000000000]}})"));
      },
      {"declares 1000000000000 data bytes but the file has 0"});
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"U8","shape":[0,9223372036854775808],"data_offsets":[0,0]}})")); },
      {"dimension above 2^63"});
  expect_error(
      [] { parse(file_of(R"({"a":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}})", "x")); },
      {"9 dimensions; nabla supports 8"});
  std::string ones = "1";
  for (int i = 0; i < 100; ++i) ones += ",1";  // refused while parsing, before the JSON tree grows
  expect_error(
      [&] { parse(file_of(R"({"a":{"dtype":"U8","shape":[)" + ones + R"(],"data_offsets":[0,1]}})", "x")); },
      {"an array in the JSON header has more than 64 elements"});
}

TEST(SafetensorsBad, OffsetsOutOfRangeOverlappingOrWithGaps) {
  // Ten tensors sharing one range (the "Proposal 4" attack): overlap.
  std::string h = "{";
  for (int i = 0; i < 10; ++i)
    h += std::string(i ? "," : "") + "\"t" + std::to_string(i) +
         R"(":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})";
  h += "}";
  expect_error([&] { parse(file_of(h, zeros_bytes(16))); },
               {"starts at data offset 0", "overlapping tensors"});
  // A hole between two tensors.
  std::string gap =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})";
  expect_error([&] { parse(file_of(gap, "abc")); }, {"tensor \"b\" starts at data offset 2", "a gap"});
  // Not starting at 0.
  expect_error([] { parse(file_of(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "ab")); },
               {"a gap"});
  // Past the end of the file.
  expect_error([] { parse(file_of(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", "ab")); },
               {"truncated"});
  // Zero-size tensors may share an offset.
  std::string empties =
      R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[0,2],"data_offsets":[0,0]}})";
  EXPECT_EQ(parse(file_of(empties)).tensors.size(), 2u);
}

TEST(SafetensorsBad, FileErrorsNameThePath) {
  TempDir dir;
  write_file_atomic(dir / "x.safetensors", u64le(2) + "{x");
  expect_error([&] { load(dir / "x.safetensors"); }, {"x.safetensors", "not valid JSON"});
  expect_error([&] { read_safetensors_header(dir.str()); }, {"not a regular file"});
}

}  // namespace
}  // namespace nabla::io
