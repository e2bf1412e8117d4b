// safetensors files written by the Python side (tests/fixtures/io/gen_safetensors*.py): one by
// torch with a struct+json writer (insertion order, no header padding), one by the real
// `safetensors` package. The reverse direction (nabla writes, torch reads) is the CTest
// io.safetensors_to_torch (tests/io/check_nabla_written.py).
#include <gtest/gtest.h>

#include "nabla/io/atomic_file.h"
#include "nabla/io/npy.h"
#include "nabla/io/safetensors.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"

namespace nabla::io {
namespace {

const std::string kDir = std::string(NABLA_FIXTURE_DIR) + "/io/";

TEST(SafetensorsInterop, ReadsATorchWrittenFileAndRunsItsModel) {
  auto f = load_safetensors(kDir + "torch_written.safetensors");
  EXPECT_EQ(f.metadata, (Metadata{{"format", "pt"}}));
  ASSERT_EQ(f.tensors.size(), 13u);
  const std::pair<const char*, DType> want[] = {
      {"0.weight", kFloat32},    {"0.bias", kFloat32},    {"2.weight", kFloat32},
      {"2.bias", kFloat32},      {"extra.f64", kFloat64}, {"extra.f16", kFloat16},
      {"extra.bf16", kBFloat16}, {"extra.i64", kInt64},   {"extra.i32", kInt32},
      {"extra.u8", kUInt8},      {"extra.bool", kBool},   {"extra.scalar", kFloat32},
      {"extra.empty", kFloat32}};
  for (const auto& [name, dtype] : want) {
    SCOPED_TRACE(name);
    const Tensor& t = f.tensors.at(name);
    Tensor ref = load_npy(kDir + "torch_written/" + name + ".npy");  // numpy's own bytes
    EXPECT_EQ(t.dtype(), dtype);
    EXPECT_EQ(t.shape(), ref.shape());
    if (dtype == kInt64) {
      EXPECT_EQ(t.to_vector<int64_t>(), ref.to_vector<int64_t>());  // 2^62 would not survive double
    } else {
      EXPECT_EQ(t.to_vector<double>(), ref.to_vector<double>());
    }
  }
  // The weights drive the same network in nabla: torch's output, up to float rounding.
  nn::Sequential model(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3));
  auto result = load_into(*model, kDir + "torch_written.safetensors", /*strict=*/false);
  EXPECT_TRUE(result.missing_keys.empty());
  EXPECT_EQ(result.unexpected_keys.size(), 9u);  // the extra.* tensors
  Tensor y = model->forward(load_npy(kDir + "torch_written/x.npy"));
  Tensor ref = load_npy(kDir + "torch_written/y.npy");
  EXPECT_TRUE(allclose(y, ref, 1e-6, 1e-6)) << y << ref;
}

TEST(SafetensorsInterop, ReadsTheReferenceLibrarysFileAndWritesTheSameBytes) {
  std::string bytes = read_file(kDir + "ref_written.safetensors");
  auto f = parse_safetensors(bytes.data(), bytes.size(), "ref_written.safetensors");
  EXPECT_EQ(f.metadata, (Metadata{{"writer", "safetensors.numpy"}}));
  auto base = arange(12).reshape({3, 4});
  const std::pair<const char*, DType> want[] = {{"f32", kFloat32}, {"f64", kFloat64}, {"f16", kFloat16},
                                                {"i64", kInt64},   {"i32", kInt32},   {"u8", kUInt8}};
  for (const auto& [name, dtype] : want) {
    SCOPED_TRACE(name);
    EXPECT_EQ(f.tensors.at(name).dtype(), dtype);
    EXPECT_EQ(f.tensors.at(name).to_vector<double>(), base.to_vector<double>());
  }
  std::vector<double> every_third;
  for (int i = 0; i < 12; ++i) every_third.push_back(i % 3 == 0);
  EXPECT_EQ(f.tensors.at("bool").dtype(), kBool);
  EXPECT_EQ(f.tensors.at("bool").to_vector<double>(), every_third);
  EXPECT_EQ(f.tensors.at("f32_scalar").dim(), 0);
  EXPECT_EQ(f.tensors.at("f32_scalar").item<float>(), 1.5f);
  EXPECT_EQ(f.tensors.at("f64_empty").shape(), (Shape{0, 2}));
  // nabla's writer follows the reference layout exactly: same tensors + metadata -> same bytes.
  EXPECT_EQ(serialize_safetensors(f.tensors, f.metadata), bytes);
}

}  // namespace
}  // namespace nabla::io
