// clip_grad_norm_ / clip_grad_value_ vs PyTorch 1.13 (fixtures from tests/fixtures/optim/gen_optim.py).
#include "nabla/nn/utils/clip_grad.h"

#include <gtest/gtest.h>

#include <limits>

#include "nabla/creation.h"
#include "nabla/ops.h"
#include "nabla/runtime.h"
#include "optim/optim_fixture.h"

namespace nabla::nn::utils {
namespace {

using optim::testing::load_fixture;
using optim::testing::max_abs_diff;
const char* const kNames[] = {"W", "b", "V", "c"};

std::vector<Tensor> params_with_grads() {
  std::vector<Tensor> ps;
  for (auto* n : kNames) {
    Tensor p = load_fixture(std::string("init_") + n).set_requires_grad();
    p.set_grad(load_fixture(std::string("grads_") + n).select(0, 0).clone() * 3.0);
    ps.push_back(p);
  }
  return ps;
}

TEST(ClipGrad, NormMatchesPyTorch) {
  struct Case {
    const char* tag;
    double norm_type, max_norm;
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (auto c :
       {Case{"l2", 2.0, 1.0}, Case{"l1", 1.0, 2.0}, Case{"inf", inf, 0.5}, Case{"l3_noclip", 3.0, 100.0}}) {
    SCOPED_TRACE(c.tag);
    auto ps = params_with_grads();
    double total = clip_grad_norm_(ps, c.max_norm, c.norm_type);
    double want = load_fixture(std::string("clip_") + c.tag + "_total").item<double>();
    EXPECT_NEAR(total, want, 1e-5 * want);
    for (int k = 0; k < 4; ++k)
      EXPECT_LE(max_abs_diff(ps[k].grad(), load_fixture(std::string("clip_") + c.tag + "_" + kNames[k])),
                1e-6);
  }
}

TEST(ClipGrad, SkipsMissingGradsAndEmpty) {
  auto a = ones({3}).set_requires_grad(), b = ones({3}).set_requires_grad();
  EXPECT_EQ(clip_grad_norm_({a, b}, 1.0), 0.0);
  a.set_grad(full({3}, 4.0));
  EXPECT_NEAR(clip_grad_norm_({a, b}, 1.0), std::sqrt(48.0), 1e-12);
  EXPECT_NEAR(a.grad().pow(2).sum().item<double>(), 1.0, 1e-5);
  EXPECT_FALSE(b.grad().defined());
}

TEST(ClipGrad, NonFiniteAndBadNormType) {
  auto a = ones({2}).set_requires_grad();
  a.set_grad(tensor({1.f, std::numeric_limits<float>::infinity()}));
  EXPECT_THROW(clip_grad_norm_({a}, 1.0, 2.0, /*error_if_nonfinite=*/true), Error);
  EXPECT_THROW(clip_grad_norm_({a}, 1.0, 0.0), Error);
}

TEST(ClipGrad, NormDoesNotDependOnThreadCount) {
  int saved = get_num_threads();
  Generator gen(11);
  Tensor g = randn({500000}, {}, &gen);
  auto norm = [&](int threads) {
    set_num_threads(threads);
    auto p = zeros({500000}).set_requires_grad();
    p.set_grad(g.clone());
    return clip_grad_norm_({p}, 1e9);
  };
  EXPECT_EQ(norm(1), norm(2));
  set_num_threads(saved);
}

TEST(ClipGrad, Value) {
  auto a = zeros({4}).set_requires_grad();
  a.set_grad(tensor({-3.f, -0.5f, 0.2f, 7.f}));
  clip_grad_value_({a}, 1.0);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{-1.f, -0.5f, 0.2f, 1.f}));
  EXPECT_THROW(clip_grad_value_({a}, -1.0), Error);
}

}  // namespace
}  // namespace nabla::nn::utils
