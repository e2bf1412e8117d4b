// Tensor basics: creation, dtypes, views and their metadata, conversions, generator.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/nabla.h"

namespace nabla {
namespace {

TEST(Tensor, FactoriesShapesAndDtypes) {
  auto z = zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), kFloat32);
  EXPECT_EQ(z.strides(), (Shape{3, 1}));
  EXPECT_EQ(ones({2}, kInt64).to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(full({3}, 2.5, kFloat64).to_vector<double>(), (std::vector<double>{2.5, 2.5, 2.5}));
  EXPECT_EQ(arange(5).dtype(), kInt64);
  EXPECT_EQ(arange(0.0, 1.0, 0.25).to_vector<float>(), (std::vector<float>{0, 0.25f, 0.5f, 0.75f}));
  auto l = linspace(0, 1, 5).to_vector<float>();
  EXPECT_EQ(l.back(), 1.f);
  EXPECT_FLOAT_EQ(l[1], 0.25f);
  EXPECT_EQ(eye(2, 3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(tensor({1, 2, 3}).dtype(), kInt64);
  EXPECT_EQ(tensor({1.f, 2.f}).dtype(), kFloat32);
  EXPECT_EQ(tensor({{1.0, 2.0}, {3.0, 4.0}}).shape(), (Shape{2, 2}));
  EXPECT_EQ(tensor({true, false}).dtype(), kBool);
  EXPECT_THROW(zeros({2, -1}), Error);
}

TEST(Tensor, ScalarsAndItem) {
  auto s = full({}, 3.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item<float>(), 3.5f);
  EXPECT_THROW(zeros({2}).item<float>(), Error);
}

TEST(Tensor, HalfAndBFloat16AreStorageWithConversion) {
  auto x = tensor({1.f, -2.5f, 65504.f, 1e-7f, 3.14159f});
  auto h = x.to(kFloat16);
  auto b = x.to(kBFloat16);
  EXPECT_EQ(h.element_size(), 2u);
  auto hv = h.to(kFloat32).to_vector<float>();
  EXPECT_EQ(hv[0], 1.f);
  EXPECT_EQ(hv[1], -2.5f);
  EXPECT_EQ(hv[2], 65504.f);
  EXPECT_NEAR(hv[3], 1.19209e-07f, 1e-10);  // subnormal half, as torch gives
  EXPECT_EQ(hv[4], 3.140625f);              // round to nearest
  auto bv = b.to(kFloat32).to_vector<float>();
  EXPECT_EQ(bv[4], 3.140625f);
  EXPECT_EQ(promote_types(kFloat16, kBFloat16), kFloat32);
  EXPECT_EQ(promote_types(kInt64, kFloat16), kFloat16);
  EXPECT_EQ(promote_types(kUInt8, kInt32), kInt32);
  EXPECT_EQ(promote_types(kBool, kUInt8), kUInt8);
}

TEST(Tensor, ViewsShareStorageWithoutCopies) {
  auto x = arange(24).reshape({2, 3, 4});
  auto t = x.transpose(0, 2);
  EXPECT_TRUE(t.shares_storage_with(x));
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 4, 12}));
  EXPECT_FALSE(t.is_contiguous());
  auto s = x.slice(2, 1, 4, 2);  // [:, :, 1:4:2]
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.storage_offset(), 1);
  EXPECT_EQ(s.to_vector<int64_t>()[1], 3);
  auto e = tensor({1.f, 2.f}).unsqueeze(0).expand({3, 2});
  EXPECT_EQ(e.strides(), (Shape{0, 1}));
  auto sel = x.select(1, -1);
  EXPECT_EQ(sel.shape(), (Shape{2, 4}));
  EXPECT_EQ(sel.to_vector<int64_t>()[0], 8);
  EXPECT_EQ(x.flatten().shape(), (Shape{24}));
  EXPECT_EQ(x.view({-1, 4}).shape(), (Shape{6, 4}));
  EXPECT_EQ(x.squeeze().shape(), x.shape());
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 3, 4, 1}));
  EXPECT_EQ(x.unflatten(2, {2, 2}).shape(), (Shape{2, 3, 2, 2}));
}

TEST(Tensor, ReshapeCopiesOnlyWhenNeeded) {
  auto x = arange(6).reshape({2, 3});
  EXPECT_TRUE(x.reshape({3, 2}).shares_storage_with(x));
  auto t = x.t();
  EXPECT_THROW(t.view({6}), Error);
  auto r = t.reshape({6});
  EXPECT_FALSE(r.shares_storage_with(x));
  EXPECT_EQ(r.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
}

TEST(Tensor, ShapeErrorsNameTheOp) {
  auto x = zeros({2, 3});
  try {
    x.view({4, 2});
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("view"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 2]"), std::string::npos) << m;
  }
  EXPECT_THROW(x.select(0, 2), Error);
  EXPECT_THROW(x.permute({0, 0}), Error);
  EXPECT_THROW(x.expand({3, 3}), Error);
  EXPECT_THROW(x.transpose(0, 2), Error);
}

TEST(Tensor, ContiguousAndClone) {
  auto x = arange(6).reshape({2, 3}).t();
  auto c = x.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector<int64_t>(), x.to_vector<int64_t>());
  auto y = zeros({2});
  EXPECT_TRUE(y.contiguous().shares_storage_with(y));
  EXPECT_FALSE(y.clone().shares_storage_with(y));
}

TEST(Tensor, CopyBroadcastsAndConverts) {
  auto dst = zeros({2, 3}, kFloat64);
  dst.copy_(tensor({1, 2, 3}));
  EXPECT_EQ(dst.to_vector<double>(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(dst.version(), 1u);
}

TEST(Tensor, FromBlobBorrowsAndCallsDeleter) {
  float data[4] = {1, 2, 3, 4};
  bool deleted = false;
  {
    auto t = from_blob(data, {2, 2}, kFloat32, [&](void*) { deleted = true; });
    t.select(0, 0).fill_(9.0);
    EXPECT_EQ(data[0], 9.f);
    EXPECT_EQ(data[1], 9.f);
  }
  EXPECT_TRUE(deleted);
  auto c = from_buffer(data, {4}, kFloat32);
  data[3] = 0;
  EXPECT_EQ(c.to_vector<float>()[3], 4.f);
}

TEST(Tensor, GeneratorIsSeedable) {
  manual_seed(7);
  auto a = randn({100});
  manual_seed(7);
  auto b = randn({100});
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  Generator g(7);
  auto u = rand({1000}, kFloat32, &g).to_vector<float>();
  double mean = 0;
  for (float v : u) {
    EXPECT_GE(v, 0.f);
    EXPECT_LT(v, 1.f);
    mean += v;
  }
  EXPECT_NEAR(mean / 1000, 0.5, 0.05);
  auto n = randn({20000}, kFloat64).to_vector<double>();
  double m = 0, m2 = 0;
  for (double v : n) m += v, m2 += v * v;
  m /= n.size();
  EXPECT_NEAR(m, 0.0, 0.03);
  EXPECT_NEAR(m2 / n.size() - m * m, 1.0, 0.05);
  auto r = randint(3, 6, {1000}).to_vector<int64_t>();
  for (auto v : r) EXPECT_TRUE(v >= 3 && v < 6);
  auto p = randperm(10).to_vector<int64_t>();
  std::sort(p.begin(), p.end());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p[i], i);
}

TEST(Tensor, GeneratorStateRoundTrips) {
  Generator g(3);
  g.next_normal();  // leaves a cached normal
  auto st = g.state();
  double a = g.next_normal(), b = g.next_normal();
  g.set_state(st);
  EXPECT_EQ(g.next_normal(), a);
  EXPECT_EQ(g.next_normal(), b);
}

TEST(Tensor, AllocatorReusesBlocks) {
  { auto warm = empty({1000}); }
  reset_memory_stats();
  for (int i = 0; i < 10; ++i) auto t = empty({1000});
  auto s = memory_stats();
  EXPECT_EQ(s.requests, 10u);
  EXPECT_EQ(s.system_allocs, 0u);
}

TEST(Tensor, CudaIsUnavailableAndSaysSo) {
  EXPECT_FALSE(cuda::is_available());
  try {
    zeros({2}).to(kCUDA);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos);
  }
}

}  // namespace
}  // namespace nabla

namespace nabla {
namespace {
TEST(Runtime, DenormalsAreFlushedByDefaultAndCanBeKept) {
  volatile float tiny = 1e-38f;
  volatile float half = 0.5f;
  EXPECT_EQ(tiny * half * 1.0f, 0.0f);  // 5e-39 is denormal: flushed
  set_flush_denormal(false);
  EXPECT_GT(tiny * half, 0.0f);
  set_flush_denormal(true);
}
}  // namespace
}  // namespace nabla
