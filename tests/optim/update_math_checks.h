// The checks of src/ops/optim/update_math.h, included by two test files: update_math_test.cpp
// (the build's float32 math: the AVX-512 square root where the machine has it) and
// update_math_plain_test.cpp (NABLA_OPTIM_NO_SIMD: the plain formulas that machines without AVX-512
// run). Each defines UPDATE_MATH_SUITE first.
//  - One step of every Adam/AdamW, RMSprop and Adagrad variant over awkward values (0, denormals,
//    tiny and huge moments, gradients whose square overflows, inf and NaN) against a float64
//    evaluation of the same formula: within a few float32 ulp, inf and NaN where PyTorch has them.
//    Both with denormals kept (IEEE, as PyTorch) and flushed (FTZ/DAZ, nabla's default: then the
//    reference reads denormal inputs as 0 too, and results may differ by a few FLT_MIN).
//  - A range split at arbitrary points (and a part run through offset pointers, as a fused graph
//    node may do) gives the same bits as one whole range, SGD's included. (The plain formulas once
//    failed this: the compiler fused a different product in the vectorised body than in the scalar
//    remainder.)
#pragma once
#include <gtest/gtest.h>
#include <xmmintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/optim/update_math.h"

namespace nabla::ops::optim_cpu {
namespace {

constexpr double kUlp = 0x1p-23;  // float32's relative spacing at worst (2^-23 of the value)

/// Sets flush-to-zero / denormals-are-zero on this thread for the guard's lifetime (the range
/// functions run on the calling thread; float32 to float64 conversions of the reference honour DAZ).
class FlushMode {
 public:
  explicit FlushMode(bool flush) : saved_(_mm_getcsr()) {
    _mm_setcsr(flush ? (saved_ | 0x8040u) : (saved_ & ~0x8040u));
  }
  ~FlushMode() { _mm_setcsr(saved_); }
  FlushMode(const FlushMode&) = delete;
  FlushMode& operator=(const FlushMode&) = delete;

 private:
  unsigned saved_;
};

/// The absolute slack on top of the relative tolerances: two steps of the denormal grid, or a few
/// FLT_MIN where results below it are flushed.
double floor_for(bool flush) { return flush ? 0x1p-124 : 0x1p-148; }

using Arrays = std::vector<std::vector<float>>;

/// got (float32) agrees with want (float64): NaN with NaN, an overflowing want with inf of its sign,
/// else |got - want| <= tol.
::testing::AssertionResult near(float got, double want, double tol) {
  if (std::isnan(want)) {
    if (std::isnan(got)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << got << ", want NaN";
  }
  const float want_f = static_cast<float>(want);
  if (std::isinf(want_f)) {
    if (got == want_f) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << got << ", want " << want_f;
  }
  if (!std::isnan(got) && std::abs(got - want) <= tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << std::hexfloat << "got " << got << ", want " << want << " (difference "
         << std::abs(double(got) - want) << ", tolerance " << tol << ")" << std::defaultfloat;
}

/// n values: about a third picked from `special`, the rest log-uniform in [lo, hi] with a random
/// sign (positive only when `positive`).
std::vector<float> awkward(std::mt19937& rng, size_t n, const std::vector<float>& special, double lo,
                           double hi, bool positive) {
  std::uniform_real_distribution<double> u(0, 1), e(std::log(lo), std::log(hi));
  std::vector<float> x(n);
  for (auto& xi : x) {
    if (u(rng) < 0.35) {
      xi = special[std::uniform_int_distribution<size_t>(0, special.size() - 1)(rng)];
    } else {
      xi = static_cast<float>(std::exp(e(rng)));
      if (!positive && u(rng) < 0.5) xi = -xi;
    }
  }
  return x;
}

constexpr float kInf = INFINITY, kNaN = NAN;
// 1003 elements: the vector body and a partial tail.
constexpr size_t kN = 1003;

std::vector<float> params(std::mt19937& rng) {
  return awkward(rng, kN, {0.0f, -0.0f, 1e-40f, -1e-3f, 0.5f, -1.0f, 100.0f, 1e30f}, 1e-6, 10, false);
}
std::vector<float> grads(std::mt19937& rng) {
  // 2e19: its square overflows float32, (1 - beta2) * g * g does not; 1e30: that overflows too
  // (exp_avg_sq inf, the quotient 0 or NaN).
  return awkward(rng, kN, {0.0f, -0.0f, 1e-45f, -1e-40f, 1e-20f, 3.0f, 1e19f, -2e19f, 1e30f, -kInf, kNaN},
                 1e-8, 1, false);
}
std::vector<float> second_moments(std::mt19937& rng) {
  return awkward(rng, kN,
                 {0.0f, 1e-45f, 1e-40f, 1.1e-38f, 1e-30f, 1e-12f, 1.0f, 1e10f, 1e30f, 3e38f, kInf, kNaN},
                 1e-16, 1, true);
}

// ---- Adam / AdamW ----

struct AdamCase {
  Decay decay;
  bool amsgrad;
  float eps;
};

AdamConsts<float> adam_consts(const AdamCase& k) {
  const double lr = 1e-2, b1 = 0.9, b2 = 0.999, wd = k.decay == Decay::kNone ? 0 : 0.05, step = 3;
  return {float(b1),
          float(1 - b1),
          float(b2),
          float(1 - b2),
          float(wd),
          k.eps,
          float(-lr / (1 - std::pow(b1, step))),
          float(1 / std::sqrt(1 - std::pow(b2, step))),
          float(1 - lr * wd)};
}

void run_adam(const AdamCase& k, Arrays& a, int64_t begin, int64_t end, size_t offset = 0) {
  auto c = adam_consts(k);
  auto go = [&]<Decay kDecay>() {
    auto f = k.amsgrad ? adam_range<float, kDecay, true> : adam_range<float, kDecay, false>;
    f(a[0].data() + offset, a[1].data() + offset, a[2].data() + offset, a[3].data() + offset,
      a[4].data() + offset, begin, end, c);
  };
  if (k.decay == Decay::kNone) go.template operator()<Decay::kNone>();
  if (k.decay == Decay::kL2) go.template operator()<Decay::kL2>();
  if (k.decay == Decay::kDecoupled) go.template operator()<Decay::kDecoupled>();
}

Arrays adam_inputs(uint32_t seed) {
  std::mt19937 rng(seed);
  Arrays a{params(rng), grads(rng),
           awkward(rng, kN, {0.0f, 1e-42f, -1e-30f, 1e-5f, -2.0f, 1e30f, kInf, kNaN}, 1e-8, 1, false),
           second_moments(rng), second_moments(rng)};
  return a;
}

const std::vector<AdamCase> kAdamCases = {
    {Decay::kNone, false, 1e-8f},      {Decay::kNone, false, 0.0f}, {Decay::kL2, false, 1e-8f},
    {Decay::kDecoupled, false, 1e-8f}, {Decay::kNone, true, 1e-8f}, {Decay::kL2, true, 0.0f},
    {Decay::kDecoupled, true, 1e-3f},
};

TEST(UPDATE_MATH_SUITE, AdamWithinUlpsOfFloat64) {
  for (bool flush : {false, true})
    for (const auto& k : kAdamCases) {
      FlushMode mode(flush);
      const double kDenormal = floor_for(flush);
      SCOPED_TRACE("flush " + std::to_string(flush) + " decay " + std::to_string(int(k.decay)) + " amsgrad " +
                   std::to_string(k.amsgrad) + " eps " + std::to_string(k.eps));
      const Arrays in = adam_inputs(11);
      Arrays out = in;
      run_adam(k, out, 0, kN);
      const auto c = adam_consts(k);
      int finite_updates = 0;
      for (size_t i = 0; i < kN; ++i) {
        SCOPED_TRACE("element " + std::to_string(i));
        const double p = in[0][i], wdp = k.decay == Decay::kL2 ? double(c.wd) * p : 0.0;
        const double g = in[1][i] + wdp, ag = std::abs(double(in[1][i])) + std::abs(wdp);
        const double mb = double(in[2][i]) * c.b1, vb = double(in[3][i]) * c.b2;
        ASSERT_TRUE(
            near(out[2][i], mb + double(c.omb1) * g, 3 * kUlp * (std::abs(mb) + c.omb1 * ag) + kDenormal));
        ASSERT_TRUE(near(out[3][i], vb + double(c.omb2) * g * g,
                         3 * kUlp * (std::abs(vb) + c.omb2 * ag * ag) + kDenormal));
        double v = out[3][i];
        if (k.amsgrad) {  // a maximum: exact (NaN from exp_avg_sq propagates)
          const float want = in[4][i] > out[3][i] ? in[4][i] : out[3][i];
          ASSERT_TRUE(std::memcmp(&out[4][i], &want, 4) == 0) << out[4][i] << " vs " << want;
          v = out[4][i];
        }
        // The part under test: sqrt, denominator, quotient and update, from the stored moments.
        const double pd = k.decay == Decay::kDecoupled ? p * c.decay : p;
        const double step = double(c.neg_step) * (double(out[2][i]) / (std::sqrt(v) * c.inv_bc2 + c.eps));
        ASSERT_TRUE(
            near(out[0][i], pd + step, 2 * kUlp * std::abs(pd) + 4 * kUlp * std::abs(step) + kDenormal));
        finite_updates += std::isfinite(step) && step != 0 && std::abs(step) > 1e-6 * std::abs(pd);
      }
      EXPECT_GT(finite_updates, 300);  // most elements really moved
    }
}

TEST(UPDATE_MATH_SUITE, AdamRangeSplitsGiveIdenticalBits) {
  std::mt19937 rng(5);
  for (const auto& k : kAdamCases) {
    const Arrays in = adam_inputs(12);
    Arrays whole = in;
    run_adam(k, whole, 0, kN);
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<int64_t> cut = {0, 0, 0, int64_t(kN)};
      for (int j = 1; j < 3; ++j) cut[j] = std::uniform_int_distribution<int64_t>(0, kN)(rng);
      std::sort(cut.begin(), cut.end());
      Arrays split = in;
      run_adam(k, split, cut[0], cut[1]);
      run_adam(k, split, 0, cut[2] - cut[1], cut[1]);  // through offset pointers
      run_adam(k, split, cut[2], cut[3]);
      for (int j = 0; j < 5; ++j)
        ASSERT_EQ(std::memcmp(whole[j].data(), split[j].data(), kN * 4), 0)
            << "array " << j << ", cuts " << cut[1] << ", " << cut[2];
    }
  }
}

// ---- RMSprop ----

struct RMSpropCase {
  bool wd, centered, momentum;
  float eps;
};

RMSpropConsts<float> rmsprop_consts(const RMSpropCase& k) {
  return {-1e-2f, 0.9f, 1 - 0.9f, k.eps, k.wd ? 0.01f : 0.0f, k.momentum ? 0.5f : 0.0f};
}

void run_rmsprop(const RMSpropCase& k, Arrays& a, int64_t begin, int64_t end, size_t offset = 0) {
  auto c = rmsprop_consts(k);
  auto f = [&]<bool kWd, bool kCentered, bool kMom>() {
    rmsprop_range<float, kWd, kCentered, kMom>(a[0].data() + offset, a[1].data() + offset,
                                               a[2].data() + offset, a[4].data() + offset,
                                               a[3].data() + offset, begin, end, c);
  };
  std::function<void()> table[2][2][2] = {{{[&] { f.template operator()<false, false, false>(); },
                                            [&] { f.template operator()<false, false, true>(); }},
                                           {[&] { f.template operator()<false, true, false>(); },
                                            [&] { f.template operator()<false, true, true>(); }}},
                                          {{[&] { f.template operator()<true, false, false>(); },
                                            [&] { f.template operator()<true, false, true>(); }},
                                           {[&] { f.template operator()<true, true, false>(); },
                                            [&] { f.template operator()<true, true, true>(); }}}};
  table[k.wd][k.centered][k.momentum]();
}

// p, g, square_avg, momentum_buffer, grad_avg (kept at most half the root of square_avg, as it is
// in training; the centred variance is then well conditioned).
Arrays rmsprop_inputs(uint32_t seed) {
  std::mt19937 rng(seed);
  Arrays a{params(rng), grads(rng), second_moments(rng),
           awkward(rng, kN, {0.0f, 1e-40f, -3.0f, 1e30f}, 1e-6, 10, false), std::vector<float>(kN)};
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  for (size_t i = 0; i < kN; ++i) a[4][i] = static_cast<float>(u(rng) * std::sqrt(double(a[2][i])));
  return a;
}

const std::vector<RMSpropCase> kRMSpropCases = {
    {false, false, false, 1e-8f}, {false, false, false, 0.0f}, {true, false, false, 1e-8f},
    {false, true, false, 1e-8f},  {false, false, true, 1e-8f}, {true, true, true, 1e-6f},
};

TEST(UPDATE_MATH_SUITE, RMSpropWithinUlpsOfFloat64) {
  for (bool flush : {false, true})
    for (const auto& k : kRMSpropCases) {
      FlushMode mode(flush);
      const double kDenormal = floor_for(flush);
      SCOPED_TRACE("flush " + std::to_string(flush) + " wd " + std::to_string(k.wd) + " centered " +
                   std::to_string(k.centered) + " momentum " + std::to_string(k.momentum) + " eps " +
                   std::to_string(k.eps));
      const Arrays in = rmsprop_inputs(21);
      Arrays out = in;
      run_rmsprop(k, out, 0, kN);
      const auto c = rmsprop_consts(k);
      int finite_updates = 0;
      for (size_t i = 0; i < kN; ++i) {
        SCOPED_TRACE("element " + std::to_string(i));
        const double p = in[0][i], wdp = k.wd ? double(c.wd) * p : 0.0;
        const double g = in[1][i] + wdp, ag = std::abs(double(in[1][i])) + std::abs(wdp);
        const double sb = double(in[2][i]) * c.alpha;
        ASSERT_TRUE(near(out[2][i], sb + double(c.oma) * g * g,
                         3 * kUlp * (std::abs(sb) + c.oma * ag * ag) + kDenormal));
        double var = out[2][i], var_err = 0;
        if (k.centered) {
          const double gb = double(in[4][i]) * c.alpha, ga = out[4][i];
          ASSERT_TRUE(
              near(out[4][i], gb + double(c.oma) * g, 3 * kUlp * (std::abs(gb) + c.oma * ag) + kDenormal));
          // Exact in float64, then rounded as the kernel rounds it: a difference below float32's
          // range becomes (-)0, not a negative number.
          var = static_cast<float>(var - ga * ga);
          // square_avg inf and ga*ga past float32's range: PyTorch's order (ga*ga rounded first)
          // gives inf - inf = NaN, a fused multiply-add gives inf (no update). Either is accepted.
          if (std::isinf(double(out[2][i])) && std::isinf(static_cast<float>(ga * ga))) continue;
          var_err = kUlp * (std::abs(double(out[2][i])) + ga * ga);  // the plain formula rounds ga*ga first
        }
        const double d = std::sqrt(var) + c.eps;
        const double q = g / d;
        // Error of q: sqrt and divide roundings, the centred variance's rounding carried through
        // the square root, and the float32 gradient's rounding (with weight decay: absolute, so
        // denormal results count).
        double sqrt_err = 0;  // how far the variance's rounding can move its square root
        if (var_err > 0 && std::isfinite(var_err))
          sqrt_err =
              var > 0 ? std::min(var_err / (2 * std::sqrt(var)), std::sqrt(var_err)) : std::sqrt(var_err);
        const double q_tol =
            std::abs(q) * (4 * kUlp + sqrt_err / d) + (k.wd ? (3 * kUlp * ag + kDenormal) / d : 0);
        double step = q, step_tol = q_tol;
        if (k.momentum) {
          const double bm = double(in[3][i]) * c.mom;
          step = bm + q;
          ASSERT_TRUE(near(out[3][i], step, step_tol + 2 * kUlp * (std::abs(bm) + std::abs(q)) + kDenormal));
          step = out[3][i];
          step_tol = 0;
        }
        const double want = p + double(c.neg_lr) * step;
        ASSERT_TRUE(near(out[0][i], want,
                         2 * kUlp * std::abs(p) +
                             std::abs(c.neg_lr) * (step_tol + 2 * kUlp * std::abs(step)) + kDenormal));
        finite_updates += std::isfinite(step) && step != 0 && std::abs(c.neg_lr * step) > 1e-6 * std::abs(p);
      }
      EXPECT_GT(finite_updates, 300);
    }
}

TEST(UPDATE_MATH_SUITE, RMSpropRangeSplitsGiveIdenticalBits) {
  std::mt19937 rng(6);
  for (const auto& k : kRMSpropCases) {
    const Arrays in = rmsprop_inputs(22);
    Arrays whole = in;
    run_rmsprop(k, whole, 0, kN);
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<int64_t> cut = {0, 0, 0, int64_t(kN)};
      for (int j = 1; j < 3; ++j) cut[j] = std::uniform_int_distribution<int64_t>(0, kN)(rng);
      std::sort(cut.begin(), cut.end());
      Arrays split = in;
      run_rmsprop(k, split, cut[0], cut[1]);
      run_rmsprop(k, split, 0, cut[2] - cut[1], cut[1]);
      run_rmsprop(k, split, cut[2], cut[3]);
      for (int j = 0; j < 5; ++j)
        ASSERT_EQ(std::memcmp(whole[j].data(), split[j].data(), kN * 4), 0)
            << "array " << j << ", cuts " << cut[1] << ", " << cut[2];
    }
  }
}

// ---- Adagrad ----

void run_adagrad(bool wd, float eps, Arrays& a, int64_t begin, int64_t end, size_t offset = 0) {
  float* p = a[0].data() + offset;
  const float* g = a[1].data() + offset;
  float* sum = a[2].data() + offset;
  if (wd)
    adagrad_range<float, true>(p, g, sum, begin, end, -0.1f, eps, 0.01f);
  else
    adagrad_range<float, false>(p, g, sum, begin, end, -0.1f, eps, 0.0f);
}

TEST(UPDATE_MATH_SUITE, AdagradWithinUlpsOfFloat64AndSplitsGiveIdenticalBits) {
  std::mt19937 rng(7);
  for (bool flush : {false, true})
    for (bool wd : {false, true})
      for (float eps : {1e-10f, 0.0f}) {
        FlushMode mode(flush);
        const double kDenormal = floor_for(flush);
        SCOPED_TRACE("flush " + std::to_string(flush) + " wd " + std::to_string(wd) + " eps " +
                     std::to_string(eps));
        const Arrays in{params(rng), grads(rng), second_moments(rng)};
        Arrays out = in;
        run_adagrad(wd, eps, out, 0, kN);
        int finite_updates = 0;
        for (size_t i = 0; i < kN; ++i) {
          SCOPED_TRACE("element " + std::to_string(i));
          const double p = in[0][i], wdp = wd ? double(0.01f) * p : 0.0;  // the kernel's float constants
          const double g = in[1][i] + wdp, ag = std::abs(double(in[1][i])) + std::abs(wdp);
          ASSERT_TRUE(near(out[2][i], in[2][i] + g * g,
                           3 * kUlp * (std::abs(double(in[2][i])) + ag * ag) + kDenormal));
          const double step = double(-0.1f) * (g / (std::sqrt(double(out[2][i])) + eps));
          const double d = std::sqrt(double(out[2][i])) + eps;
          const double step_tol =
              std::abs(step) * 4 * kUlp + (wd ? 0.1 * (3 * kUlp * ag + kDenormal) / d : 0);
          ASSERT_TRUE(near(out[0][i], p + step, 2 * kUlp * std::abs(p) + step_tol + kDenormal));
          finite_updates += std::isfinite(step) && step != 0 && std::abs(step) > 1e-6 * std::abs(p);
        }
        EXPECT_GT(finite_updates, 300);
        for (int trial = 0; trial < 10; ++trial) {
          std::vector<int64_t> cut = {0, 0, 0, int64_t(kN)};
          for (int j = 1; j < 3; ++j) cut[j] = std::uniform_int_distribution<int64_t>(0, kN)(rng);
          std::sort(cut.begin(), cut.end());
          Arrays split = in;
          run_adagrad(wd, eps, split, cut[0], cut[1]);
          run_adagrad(wd, eps, split, 0, cut[2] - cut[1], cut[1]);
          run_adagrad(wd, eps, split, cut[2], cut[3]);
          for (int j = 0; j < 3; ++j)
            ASSERT_EQ(std::memcmp(out[j].data(), split[j].data(), kN * 4), 0)
                << "array " << j << ", cuts " << cut[1] << ", " << cut[2];
        }
      }
}

// ---- SGD (no sqrt or divide; the same explicit fused multiply-adds) ----

TEST(UPDATE_MATH_SUITE, SgdRangeSplitsGiveIdenticalBits) {
  std::mt19937 rng(8);
  auto run = [](int variant, Arrays& a, int64_t begin, int64_t end, size_t offset = 0) {
    float *p = a[0].data() + offset, *buf = a[2].data() + offset;
    const float* g = a[1].data() + offset;
    const float lr = -0.1f, mom = 0.9f, omd = 0.95f, wd = 0.01f;
    if (variant == 0) sgd_range<float, true, false, false, false>(p, g, buf, begin, end, lr, mom, omd, wd);
    if (variant == 1) sgd_range<float, true, true, false, false>(p, g, buf, begin, end, lr, mom, omd, wd);
    if (variant == 2) sgd_range<float, true, true, false, true>(p, g, buf, begin, end, lr, mom, omd, wd);
    if (variant == 3) sgd_range<float, false, true, true, true>(p, g, buf, begin, end, lr, mom, omd, wd);
  };
  for (int variant = 0; variant < 4; ++variant) {
    const Arrays in{params(rng), grads(rng), params(rng)};
    Arrays whole = in;
    run(variant, whole, 0, kN);
    for (size_t i = 0; i < kN; ++i) {  // the update itself, against float64 (plain SGD step)
      if (variant != 0) break;
      const double g = in[1][i] + double(0.01f) * in[0][i];
      const double want = in[0][i] + double(-0.1f) * g;
      ASSERT_TRUE(
          near(whole[0][i], want, 3 * kUlp * (std::abs(double(in[0][i])) + 0.1 * std::abs(g)) + 0x1p-148))
          << "element " << i;
    }
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<int64_t> cut = {0, 0, 0, int64_t(kN)};
      for (int j = 1; j < 3; ++j) cut[j] = std::uniform_int_distribution<int64_t>(0, kN)(rng);
      std::sort(cut.begin(), cut.end());
      Arrays split = in;
      run(variant, split, cut[0], cut[1]);
      run(variant, split, 0, cut[2] - cut[1], cut[1]);
      run(variant, split, cut[2], cut[3]);
      for (int j = 0; j < 3; ++j)
        ASSERT_EQ(std::memcmp(whole[j].data(), split[j].data(), kN * 4), 0)
            << "variant " << variant << " array " << j << ", cuts " << cut[1] << ", " << cut[2];
    }
  }
}

}  // namespace
}  // namespace nabla::ops::optim_cpu
