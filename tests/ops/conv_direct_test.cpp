// The direct stride-1 conv kernels (src/ops/conv/direct_cpu.cpp) against the im2col + GEMM path in
// float64 (an independent reference), over padding, dilation, groups, kernel shapes, strided inputs
// and channel counts that are not multiples of the kernels' tiles; plus thread-count determinism.
#include <gtest/gtest.h>

#include "nabla/nabla.h"
#include "ops/conv/conv.h"

namespace nabla {
namespace {

struct Case {
  int64_t N, C, H, W, Co, kh, kw;
  Conv2dOptions opt;
  bool bias = true, strided_input = false;
};

struct Grads {
  Tensor y, gx, gw, gb;
};

// y = conv2d(x, w, b); L = sum(y * r) for a fixed random r, so every gradient element is exercised.
Grads run(const Case& c, DType dtype, uint64_t seed) {
  Generator g(seed);
  auto x = randn({c.N, c.C, c.H, c.strided_input ? 2 * c.W : c.W}, kFloat64, &g);
  if (c.strided_input) x = x.view({c.N, c.C, c.H, c.W, 2}).select(4, 0);
  x = x.to(dtype).set_requires_grad(true);
  auto w = randn({c.Co, c.C / c.opt.groups, c.kh, c.kw}, kFloat64, &g).to(dtype).set_requires_grad(true);
  auto b = randn({c.Co}, kFloat64, &g).to(dtype).set_requires_grad(true);
  auto y = conv2d(x, w, c.bias ? b : Tensor{}, c.opt);
  auto r = randn(y.shape(), kFloat64, &g).to(dtype);
  (y * r).sum().backward();
  return {y.detach(), x.grad(), w.grad(), c.bias ? b.grad() : zeros({1})};
}

void expect_close(const Tensor& got, const Tensor& want, const char* what, const Case& c) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto a = got.to(kFloat64).to_vector<double>(), b = want.to_vector<double>();
  double scale = 0;
  for (double v : b) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], 2e-5 * scale + 1e-5)
        << what << " element " << i << " of case C=" << c.C << " H=" << c.H << " W=" << c.W << " Co=" << c.Co
        << " k=" << c.kh << "x" << c.kw << " groups=" << c.opt.groups;
}

std::vector<Case> cases() {
  return {
      {2, 1, 28, 28, 32, 3, 3, {.padding = {1, 1}}},                     // the seed CNN's first layer
      {3, 32, 14, 14, 64, 3, 3, {.padding = {1, 1}}},                    // and its second
      {2, 3, 9, 11, 5, 3, 3, {}},                                        // no padding, Co not a tile multiple
      {2, 4, 10, 7, 13, 2, 3, {.padding = {1, 0}}, false},               // asymmetric kernel, no bias
      {1, 6, 12, 12, 9, 3, 3, {.padding = {2, 2}, .dilation = {2, 2}}},  // dilation
      {2, 6, 8, 9, 6, 3, 3, {.padding = {1, 1}, .groups = 3}},           // groups
      {2, 4, 9, 9, 4, 3, 3, {.padding = {1, 1}, .groups = 4}},           // depthwise
      {1, 5, 11, 13, 7, 5, 5, {.padding = {2, 1}, .dilation = {1, 2}}},  // 5x5, mixed dilation
      {2, 3, 8, 8, 10, 3, 3, {.padding = {3, 3}}},                     // padding > k-1: input grad falls back
      {2, 3, 10, 10, 4, 3, 3, {.stride = {2, 2}, .padding = {1, 1}}},  // stride 2: reference path
      {2, 7, 6, 6, 3, 1, 1, {}},                                       // pointwise: GEMM path
      {2, 3, 7, 9, 5, 3, 3, {.padding = {1, 1}}, true, true},          // strided input
      {2, 5, 9, 6, 80, 3, 3, {.padding = {1, 1}}},  // weight grad: two channel blocks (64 + 16)
      {17, 2, 5, 5, 3, 3, 3, {.padding = {1, 1}}},
      {2, 3, 5, 37, 9, 3, 3, {.padding = {1, 1}}},   // rows of 3 slots (16 + 16 + 5 columns) // more images
                                                     // than a chunk
      {70, 3, 6, 5, 20, 3, 3, {.padding = {1, 1}}},  // weight grad: three chunks of images (32 + 32 + 6)
      // Few taps per channel: the small weight-grad kernel (wgrad_small_cpu.cpp).
      {3, 1, 9, 20, 7, 3, 3, {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}}},  // odd Co, tail
                                                                                          // lanes
      {2, 2, 10, 11, 5, 2, 2, {.stride = {1, 2}}},                     // horizontal stride: generic im2col
      {2, 1, 7, 9, 5, 3, 3, {.padding = {1, 1}}, true, true},          // strided input
      {2, 1, 8, 8, 3, 4, 4, {.padding = {1, 2}}},                      // 16 taps: two tap chunks
      {2, 4, 6, 9, 8, 3, 3, {.padding = {1, 1}, .groups = 2}, false},  // groups, 18 taps: lane-over-channels
  };
}

TEST(ConvDirect, MatchesFloat64Reference) {
  for (const Case& c : cases()) {
    Grads want = run(c, kFloat64, 7), got = run(c, kFloat32, 7);
    expect_close(got.y, want.y, "output", c);
    expect_close(got.gx, want.gx, "input grad", c);
    expect_close(got.gw, want.gw, "weight grad", c);
    expect_close(got.gb, want.gb, "bias grad", c);
  }
}

TEST(ConvDirect, MatchesIm2colPath) {
  for (const Case& c : cases()) {
    Grads direct = run(c, kFloat32, 9);
    ops::conv_cpu::set_direct_conv_enabled(false);
    Grads ref = run(c, kFloat32, 9);
    ops::conv_cpu::set_direct_conv_enabled(true);
    expect_close(direct.y, ref.y.to(kFloat64), "output", c);
    expect_close(direct.gx, ref.gx.to(kFloat64), "input grad", c);
    expect_close(direct.gw, ref.gw.to(kFloat64), "weight grad", c);
    expect_close(direct.gb, ref.gb.to(kFloat64), "bias grad", c);  // summed inside the weight-grad kernels
  }
}

// The seed CNN's layers take the direct path on CPUs with AVX-512 (this test machine's kind).
TEST(ConvDirect, SeedLayersUseDirectPath) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "no AVX-512: the direct kernels are off on this CPU";
  for (const Case& c : {cases()[0], cases()[1]}) {
    ops::Attrs a;
    int64_t v[7] = {1, 1, 1, 1, 1, 1, 1};
    std::copy(v, v + 7, a.i);
    a.i[2] = a.i[3] = 1;
    ops::ConvGeom G = ops::conv_geom({64, c.C, c.H, c.W}, {c.Co, c.C, 3, 3}, a);
    using ops::conv_cpu::ConvPass;
    for (ConvPass p : {ConvPass::kForward, ConvPass::kInputGrad, ConvPass::kWeightGrad})
      EXPECT_TRUE(ops::conv_cpu::direct_conv_applies(G, kFloat32, p));
    EXPECT_FALSE(ops::conv_cpu::direct_conv_applies(G, kFloat64, ConvPass::kForward));
    // The first layer (one input channel, 9 taps) takes the small weight-grad kernel.
    EXPECT_EQ(ops::conv_cpu::small_wgrad_applies(G, kFloat32), c.C == 1);
  }
}

// Bit-identical at 1 and 2 threads, and an image's output and input grad do not depend on the
// other images in the batch.
TEST(ConvDirect, ThreadCountAndBatchSplitDoNotChangeResults) {
  for (Case c : {Case{16, 32, 14, 14, 64, 3, 3, {.padding = {1, 1}}},
                 Case{16, 1, 28, 28, 32, 3, 3, {.padding = {1, 1}}},
                 Case{40, 8, 6, 6, 24, 3, 3, {.padding = {1, 1}}}}) {
    int saved = get_num_threads();
    set_num_threads(1);
    Grads one = run(c, kFloat32, 11);
    set_num_threads(2);
    Grads two = run(c, kFloat32, 11);
    set_num_threads(saved);
    EXPECT_EQ(one.y.to_vector<float>(), two.y.to_vector<float>());
    EXPECT_EQ(one.gx.to_vector<float>(), two.gx.to_vector<float>());
    EXPECT_EQ(one.gw.to_vector<float>(), two.gw.to_vector<float>());
    EXPECT_EQ(one.gb.to_vector<float>(), two.gb.to_vector<float>());
  }

  Generator g(5);
  auto x = randn({6, 3, 10, 10}, kFloat32, &g), w = randn({8, 3, 3, 3}, kFloat32, &g);
  auto whole = conv2d(x, w, {}, {.padding = {1, 1}});
  auto part = conv2d(x.narrow(0, 2, 3), w, {}, {.padding = {1, 1}});
  EXPECT_EQ(whole.narrow(0, 2, 3).contiguous().to_vector<float>(), part.to_vector<float>());
}

}  // namespace
}  // namespace nabla
