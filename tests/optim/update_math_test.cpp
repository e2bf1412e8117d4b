// src/ops/optim/update_math.h as this build runs it: with AVX-512 (-march=native on such a machine)
// the float32 square root comes from the FMA units. The checks: update_math_checks.h.
#define UPDATE_MATH_SUITE UpdateMath
#include "optim/update_math_checks.h"

namespace nabla::ops::optim_cpu {
namespace {

#if NABLA_OPTIM_SIMD
// The vector square root alone, over every kind of float32: within 1 ulp of the correctly rounded
// root, IEEE's result for the special values.
TEST(UpdateMath, VectorSqrtWithinOneUlp) {
  auto ulps = [](float a, float b) {
    int32_t x, y;
    std::memcpy(&x, &a, 4);
    std::memcpy(&y, &b, 4);
    return std::abs(int64_t(x) - int64_t(y));
  };
  std::vector<float> v = {0.0f, -0.0f,  INFINITY, -INFINITY,       NAN,           -1.0f, -1e-40f, 1.0f,
                          4.0f, 1e-45f, 1e-40f,   1.17549435e-38f, 3.4028235e38f, 2.0f,  0.5f,    1e-30f};
  std::mt19937 rng(3);
  for (int i = 0; i < 200000; ++i) {  // random bit patterns: every exponent, denormals included
    uint32_t bits = std::uniform_int_distribution<uint32_t>(0, 0x7f7fffff)(rng);
    float x;
    std::memcpy(&x, &bits, 4);
    v.push_back(x);
  }
  while (v.size() % simd::kWidth) v.push_back(1.0f);
  int64_t worst = 0, inexact = 0;
  for (size_t i = 0; i < v.size(); i += simd::kWidth) {
    float out[simd::kWidth];
    simd::store(out, simd::sqrt(simd::load(&v[i])));
    for (int l = 0; l < simd::kWidth; ++l) {
      const float want = static_cast<float>(std::sqrt(double(v[i + l])));
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(out[l])) << v[i + l];
        continue;
      }
      if (std::isinf(want) || want == 0) {
        EXPECT_EQ(std::memcmp(&out[l], &want, 4), 0) << v[i + l] << " -> " << out[l];
        continue;
      }
      const int64_t d = ulps(out[l], want);
      EXPECT_LE(d, 1) << std::hexfloat << v[i + l] << " -> " << out[l] << ", want " << want;
      worst = std::max(worst, d);
      inexact += d != 0;
    }
  }
  EXPECT_EQ(worst, 1);  // (the estimate is refined, not exact: a check that the path really ran)
  RecordProperty("inexact_fraction", std::to_string(double(inexact) / v.size()));
}
#endif

TEST(UpdateMath, ReportsItsPath) {
  RecordProperty("float32_path", simd::isa_name());
#if defined(__AVX512F__) && defined(__AVX512VL__)
  EXPECT_STREQ(simd::isa_name(), "avx512vl");
#else
  EXPECT_STREQ(simd::isa_name(), "plain");
#endif
}

}  // namespace
}  // namespace nabla::ops::optim_cpu
