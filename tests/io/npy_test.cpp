// .npy reading/writing, including files made by NumPy (fixtures) and crafted bad files.
#include "nabla/io/npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "nabla/io/atomic_file.h"
#include "nabla/nabla.h"

namespace nabla::io {
namespace {

std::string tmp(const std::string& name) { return ::testing::TempDir() + "nabla_npy_" + name; }

TEST(Npy, RoundTripsEveryDtype) {
  for (DType t : {kBool, kUInt8, kInt32, kInt64, kFloat16, kFloat32, kFloat64}) {
    auto x = arange(12).reshape({3, 4}).to(t);
    save_npy(x, tmp("rt.npy"));
    auto y = load_npy(tmp("rt.npy"));
    EXPECT_EQ(y.dtype(), t);
    EXPECT_EQ(y.shape(), x.shape());
    EXPECT_EQ(y.to_vector<double>(), x.to_vector<double>());
  }
  auto s = full({}, 2.0);
  save_npy(s, tmp("scalar.npy"));
  EXPECT_EQ(load_npy(tmp("scalar.npy")).dim(), 0);
  auto e = zeros({0, 3});
  save_npy(e, tmp("empty.npy"));
  EXPECT_EQ(load_npy(tmp("empty.npy")).shape(), (Shape{0, 3}));
}

TEST(Npy, WritesNumpysLayout) {
  save_npy(zeros({2, 3}), tmp("layout.npy"));
  std::string b = read_file(tmp("layout.npy"));
  EXPECT_EQ(b.size(), 128u + 24u);  // data at offset 128 like np.save
  EXPECT_EQ(b.substr(10, 44), "{'descr': '<f4', 'fortran_order': False, 'sh");
}

std::string header(const std::string& dict) {
  std::string h = dict;
  size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h;
}

void expect_error(const std::string& bytes, const std::string& needle) {
  try {
    parse_npy(bytes.data(), bytes.size(), "bad.npy");
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("bad.npy"), std::string::npos) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m;
  }
}

TEST(Npy, RejectsBadFilesWithClearErrors) {
  expect_error("hello world, not numpy", "magic");
  expect_error(header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }") + "xxxxxxxx", "pickle");
  expect_error(header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }") + "abc", "truncated");
  expect_error(
      header("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648, 2147483648), }"),
      "overflow");
  expect_error(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2), }"), "truncated");
  // An empty tensor whose other sizes overflow: numel and strides would be undefined (found by fuzz_npy).
  expect_error(header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 281474976710656, 281474976710656), }"),
               "overflow");
  expect_error(header("{'descr': '<f4', 'fortran_order': False, 'shape': (281474976710656, 281474976710656, 0), }"),
               "overflow");
  expect_error(header("{'descr': '<f4', 'shape': (1,), }"), "keys");
  expect_error(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'evil': __import__('os'), }"),
               "key");
  expect_error(header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"), "unsupported");
  std::string big = "\x93NUMPY";
  big += '\x02';
  big += '\x00';
  big += std::string("\xff\xff\xff\x00", 4);
  expect_error(big, "exceeds");
}

TEST(Npy, ReadsBigEndianAndFortranOrder) {
  std::string b = header("{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }");
  // Column-major 2x3 [[1,2,3],[4,5,6]] stored big-endian: 1 4 2 5 3 6
  for (int v : {1, 4, 2, 5, 3, 6}) {
    b += '\0';
    b += '\0';
    b += '\0';
    b += static_cast<char>(v);
  }
  auto t = parse_npy(b.data(), b.size(), "be.npy");
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
}

TEST(Npy, MissingFileNamesThePath) {
  try {
    load_npy("/nonexistent/dir/x.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.npy"), std::string::npos);
  }
}

}  // namespace
}  // namespace nabla::io
