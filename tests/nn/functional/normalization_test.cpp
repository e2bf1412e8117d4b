// nabla::F batch_norm / layer_norm / group_norm against PyTorch 1.13 (tests/fixtures/nn/
// gen_norms.py): outputs, gradients, running statistics after three training steps, eval mode.
#include "nabla/nn/functional/normalization.h"

#include <gtest/gtest.h>

#include "support/expect_error.h"
#include "support/fixture_suite.h"

namespace nabla::testing {
namespace {

using Fn = std::function<Outputs(const Inputs&)>;

/// Three training steps on fresh buffers, then eval: the layout of gen_norms.py's bn_steps.
/// momentum < 0 = cumulative average (1 / step).
Fn bn_steps(double momentum, bool affine = true, double eps = 1e-5) {
  return [=](const Inputs& x) -> Outputs {
    int64_t c = x[0].size(1);
    Tensor rm = zeros({c}, x[0].dtype()), rv = ones({c}, x[0].dtype());
    Tensor w = affine ? x[4] : Tensor(), b = affine ? x[5] : Tensor();
    Outputs out;
    for (int k = 1; k <= 3; ++k)
      out.push_back(F::batch_norm(x[k - 1], rm, rv, w, b, true, momentum < 0 ? 1.0 / k : momentum, eps));
    Tensor ye = F::batch_norm(x[3], rm, rv, w, b, false, 0.1, eps);
    out.push_back(rm.clone());
    out.push_back(rv.clone());
    out.push_back(ye);
    return out;
  };
}

std::vector<OpCase> norm_cases() {
  std::vector<OpCase> cs;
  auto add = [&](const std::string& name, Fn fn) { cs.push_back({name, std::move(fn), {}}); };
  add("bn2d_train3_eval", bn_steps(0.1));
  add("bn1d_train3_eval", bn_steps(0.1));
  add("bn1d_3d_train3_eval", bn_steps(0.1));
  add("bn2d_momentum03_eps1e3", bn_steps(0.3, true, 1e-3));
  add("bn2d_no_affine", bn_steps(0.1, false));
  add("bn2d_cumulative", bn_steps(-1));
  add("bn2d_no_running_stats",
      [](const Inputs& x) -> Outputs { return {F::batch_norm(x[0], {}, {}, x[1], x[2], true)}; });
  add("layer_norm_last", [](const Inputs& x) -> Outputs { return {F::layer_norm(x[0], {6}, x[1], x[2])}; });
  add("layer_norm_last2", [](const Inputs& x) -> Outputs {
    return {F::layer_norm(x[0], {3, 4}, x[1], x[2], 1e-3)};
  });
  add("layer_norm_no_affine", [](const Inputs& x) -> Outputs { return {F::layer_norm(x[0], {5})}; });
  add("group_norm_3groups", [](const Inputs& x) -> Outputs { return {F::group_norm(x[0], 3, x[1], x[2])}; });
  add("group_norm_1group",
      [](const Inputs& x) -> Outputs { return {F::group_norm(x[0], 1, x[1], x[2], 1e-3)}; });
  add("group_norm_instance_no_affine", [](const Inputs& x) -> Outputs { return {F::group_norm(x[0], 4)}; });
  add("group_norm_2d", [](const Inputs& x) -> Outputs { return {F::group_norm(x[0], 2, x[1], x[2])}; });
  return cs;
}

class NormFixture : public ::testing::TestWithParam<OpCase> {};

TEST_P(NormFixture, MatchesPyTorch) {
  // The eval output of the batch-norm cases depends on the training inputs through the running
  // statistics, which (as in PyTorch) carry no gradient: finite differences would see it.
  bool bn_steps = GetParam().name.rfind("bn", 0) == 0 && GetParam().name != "bn2d_no_running_stats";
  check_fixture_case("nn/norms", GetParam(), bn_steps ? std::vector<size_t>{0, 1, 2} : std::vector<size_t>{});
}

INSTANTIATE_TEST_SUITE_P(F, NormFixture, ::testing::ValuesIn(norm_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& i) { return i.param.name; });

TEST(FNorm, Errors) {
  auto x = randn({4, 3, 2, 2});
  EXPECT_ERROR_HAS(
      F::batch_norm(x, zeros({4}), ones({3}), {}, {}, true),
      "batch_norm: running_mean must have shape [3] for an input of shape [4, 3, 2, 2], got [4]");
  EXPECT_ERROR_HAS(F::batch_norm(randn({1, 3}), zeros({3}), ones({3}), {}, {}, true),
                   "expected more than 1 value per channel when training");
  EXPECT_ERROR_HAS(F::batch_norm(x, {}, {}), "running_mean and running_var are required when not training");
  EXPECT_ERROR_HAS(F::layer_norm(x, {3}),
                   "layer_norm: normalized_shape [3] does not match the last dims of input [4, 3, 2, 2]");
  EXPECT_ERROR_HAS(F::group_norm(x, 2),
                   "group_norm: the number of channels (3) must be divisible by num_groups (2)");
}

TEST(FNorm, EvalModeLeavesBuffersAloneAndTrainingUpdatesThemWithoutHistory) {
  auto x = randn({8, 3}).set_requires_grad(true);
  auto rm = zeros({3}), rv = ones({3});
  F::batch_norm(x, rm, rv);
  EXPECT_TRUE(equal(rm, zeros({3})));
  auto y = F::batch_norm(x, rm, rv, {}, {}, true);
  EXPECT_FALSE(rm.requires_grad());
  EXPECT_FALSE(rv.requires_grad());
  EXPECT_TRUE(allclose(rm, mean(x.detach(), {0}) * 0.1, 1e-5, 1e-6));
  EXPECT_TRUE(allclose(rv, var(x.detach(), {0}) * 0.1 + 0.9, 1e-5, 1e-6));  // unbiased, as PyTorch
  y.sum().backward();
  EXPECT_TRUE(x.grad().defined());
}

TEST(FNorm, ThreadCountDoesNotChangeResults) {
  manual_seed(3);
  auto x = randn({16, 8, 32, 32});
  auto w = rand({8}), b = rand({8});
  set_num_threads(1);
  auto a = F::batch_norm(x, zeros({8}), ones({8}), w, b, true);
  auto g1 = F::group_norm(x, 4, w, b);
  set_num_threads(2);
  auto c = F::batch_norm(x, zeros({8}), ones({8}), w, b, true);
  auto g2 = F::group_norm(x, 4, w, b);
  EXPECT_TRUE(equal(a, c));
  EXPECT_TRUE(equal(g1, g2));
}

}  // namespace
}  // namespace nabla::testing
