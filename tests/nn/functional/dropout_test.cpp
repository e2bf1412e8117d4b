// nabla::F::dropout: statistics (mean kept, ~p zeroed), eval identity, reproducible masks, gradient.
#include "nabla/nn/functional/dropout.h"

#include <gtest/gtest.h>

#include "nabla/nabla.h"

namespace nabla {
namespace {

TEST(FDropout, KeepsTheMeanAndZeroesAboutP) {
  Generator g(11);
  auto x = ones({200000});
  for (double p : {0.1, 0.5, 0.8}) {
    auto y = F::dropout(x, p, true, &g);
    double zeroed = (y == Scalar(0.0)).to(kFloat64).mean().item<double>();
    EXPECT_NEAR(zeroed, p, 0.01) << "p = " << p;
    EXPECT_NEAR(y.to(kFloat64).mean().item<double>(), 1.0, 0.02) << "p = " << p;
    // Survivors are scaled by exactly 1/(1-p).
    double kept = amax(y).item<double>();
    EXPECT_NEAR(kept, 1.0 / (1.0 - p), 1e-6);
  }
}

TEST(FDropout, IdentityWhenNotTrainingOrPZero) {
  auto x = randn({10, 10});
  auto e = F::dropout(x, 0.5, false);
  EXPECT_TRUE(e.shares_storage_with(x));
  EXPECT_TRUE(equal(e, x));
  EXPECT_TRUE(equal(F::dropout(x, 0.0, true), x));
}

TEST(FDropout, POneGivesZerosWithAGradient) {
  auto x = randn({4, 5}).set_requires_grad(true);
  auto y = F::dropout(x, 1.0);
  EXPECT_TRUE(equal(y, zeros({4, 5})));
  y.sum().backward();
  EXPECT_TRUE(equal(x.grad(), zeros({4, 5})));
}

TEST(FDropout, SameSeedSameMaskAndGradientUsesTheMask) {
  auto x = randn({64, 32}).set_requires_grad(true);
  manual_seed(5);
  auto a = F::dropout(x, 0.3);
  manual_seed(5);
  auto b = F::dropout(x, 0.3);
  EXPECT_TRUE(equal(a, b));
  Generator g1(9), g2(9);
  EXPECT_TRUE(equal(F::dropout(x, 0.3, true, &g1), F::dropout(x, 0.3, true, &g2)));
  a.sum().backward();
  // d(sum y)/dx = mask / (1 - p): zero exactly where the output is zero (x is never 0 here).
  auto dropped = a == Scalar(0.0);
  EXPECT_TRUE(equal(x.grad() == Scalar(0.0), dropped));
  EXPECT_NEAR(amax(x.grad()).item<double>(), 1.0 / 0.7, 1e-6);
}

TEST(FDropout, BadProbabilityIsAnError) {
  try {
    F::dropout(ones({2}), 1.5);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dropout: probability must be in [0, 1], got 1.5"),
              std::string::npos);
  }
}

TEST(FDropout, ThreadCountDoesNotChangeTheMask) {
  auto x = ones({300000});
  set_num_threads(1);
  Generator g1(4);
  auto a = F::dropout(x, 0.4, true, &g1);
  set_num_threads(2);
  Generator g2(4);
  auto b = F::dropout(x, 0.4, true, &g2);
  EXPECT_TRUE(equal(a, b));
}

}  // namespace
}  // namespace nabla
