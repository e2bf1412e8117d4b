// nabla::F losses against PyTorch 1.13 (tests/fixtures/nn/gen_losses.py): every loss x reduction x
// option, forward and input gradient, plus error messages.
#include "nabla/nn/functional/loss.h"

#include <gtest/gtest.h>

#include "support/expect_error.h"
#include "support/fixture_suite.h"

namespace nabla::testing {
namespace {

using Fn = std::function<Outputs(const Inputs&)>;

std::vector<OpCase> loss_cases() {
  std::vector<OpCase> cs;
  auto add = [&](const std::string& name, Fn fn) { cs.push_back({name, std::move(fn), {}}); };
  for (std::string red : {"none", "mean", "sum"}) {
    add("ce_weight_" + red, [=](const Inputs& x) -> Outputs {
      return {F::cross_entropy(x[0], x[1], {.weight = x[2], .reduction = red})};
    });
    add("ce_weight_ignore_" + red, [=](const Inputs& x) -> Outputs {
      return {F::cross_entropy(x[0], x[1], {.weight = x[2], .reduction = red})};
    });
    add("ce_smooth_" + red, [=](const Inputs& x) -> Outputs {
      return {F::cross_entropy(x[0], x[1], {.reduction = red, .label_smoothing = 0.1})};
    });
    add("ce_smooth_weight_" + red, [=](const Inputs& x) -> Outputs {
      return {F::cross_entropy(x[0], x[1], {.weight = x[2], .reduction = red, .label_smoothing = 0.25})};
    });
    add("ce_probs_" + red,
        [=](const Inputs& x) -> Outputs { return {F::cross_entropy(x[0], x[1], {.reduction = red})}; });
    add("ce_probs_weight_smooth_" + red, [=](const Inputs& x) -> Outputs {
      return {F::cross_entropy(x[0], x[1], {.weight = x[2], .reduction = red, .label_smoothing = 0.2})};
    });
    add("ce_spatial_weight_smooth_" + red, [=](const Inputs& x) -> Outputs {
      return {F::cross_entropy(x[0], x[1], {.weight = x[2], .reduction = red, .label_smoothing = 0.1})};
    });
    add("nll_weight_ignore_" + red, [=](const Inputs& x) -> Outputs {
      return {F::nll_loss(log_softmax(x[0], 1), x[1], {.weight = x[2], .reduction = red})};
    });
    add("nll_spatial_weight_" + red, [=](const Inputs& x) -> Outputs {
      return {F::nll_loss(x[0], x[1], {.weight = x[2], .ignore_index = 3, .reduction = red})};
    });
    add("mse_" + red,
        [=](const Inputs& x) -> Outputs { return {F::mse_loss(x[0], x[1], {.reduction = red})}; });
    add("l1_" + red,
        [=](const Inputs& x) -> Outputs { return {F::l1_loss(x[0], x[1], {.reduction = red})}; });
    add("smooth_l1_" + red,
        [=](const Inputs& x) -> Outputs { return {F::smooth_l1_loss(x[0], x[1], {.reduction = red})}; });
    add("smooth_l1_beta05_" + red, [=](const Inputs& x) -> Outputs {
      return {F::smooth_l1_loss(x[0], x[1], {.reduction = red, .beta = 0.5})};
    });
    add("bce_" + red, [=](const Inputs& x) -> Outputs {
      return {F::binary_cross_entropy(x[0], x[1], {.reduction = red})};
    });
    add("bce_weight_soft_" + red, [=](const Inputs& x) -> Outputs {
      return {F::binary_cross_entropy(x[0], x[1], {.weight = x[2], .reduction = red})};
    });
    add("bce_logits_" + red, [=](const Inputs& x) -> Outputs {
      return {F::binary_cross_entropy_with_logits(x[0], x[1], {.reduction = red})};
    });
    add("bce_logits_pos_weight_" + red, [=](const Inputs& x) -> Outputs {
      return {F::binary_cross_entropy_with_logits(x[0], x[1], {.reduction = red, .pos_weight = x[2]})};
    });
    add("bce_logits_weight_pos_weight_" + red, [=](const Inputs& x) -> Outputs {
      return {F::binary_cross_entropy_with_logits(x[0], x[1],
                                                  {.weight = x[2], .reduction = red, .pos_weight = x[3]})};
    });
    add("kl_div_" + red,
        [=](const Inputs& x) -> Outputs { return {F::kl_div(x[0], x[1], {.reduction = red})}; });
    add("kl_div_log_target_" + red, [=](const Inputs& x) -> Outputs {
      return {F::kl_div(x[0], x[1], {.reduction = red, .log_target = true})};
    });
  }
  add("ce_probs_unbatched", [](const Inputs& x) -> Outputs { return {F::cross_entropy(x[0], x[1])}; });
  add("ce_ignore_index_2_smooth", [](const Inputs& x) -> Outputs {
    return {F::cross_entropy(x[0], x[1], {.ignore_index = 2, .label_smoothing = 0.1})};
  });
  add("smooth_l1_beta0",
      [](const Inputs& x) -> Outputs { return {F::smooth_l1_loss(x[0], x[1], {.beta = 0.0})}; });
  add("kl_div_batchmean",
      [](const Inputs& x) -> Outputs { return {F::kl_div(x[0], x[1], {.reduction = "batchmean"})}; });
  add("kl_div_log_target_batchmean", [](const Inputs& x) -> Outputs {
    return {F::kl_div(x[0], x[1], {.reduction = "batchmean", .log_target = true})};
  });
  add("bce_clamped_log", [](const Inputs& x) -> Outputs {
    return {F::binary_cross_entropy(x[0], x[1], {.reduction = "none"})};
  });
  return cs;
}

class LossFixture : public ::testing::TestWithParam<OpCase> {};

TEST_P(LossFixture, MatchesPyTorch) { check_fixture_case("nn/losses", GetParam()); }

INSTANTIATE_TEST_SUITE_P(F, LossFixture, ::testing::ValuesIn(loss_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& i) { return i.param.name; });

TEST(FLoss, BadReductionListsTheValidOnes) {
  auto x = randn({4, 3});
  EXPECT_ERROR_HAS(F::mse_loss(x, x, {.reduction = "avg"}),
                   "mse_loss: reduction must be one of \"none\", \"mean\", \"sum\"; got \"avg\"");
  EXPECT_ERROR_HAS(F::kl_div(x, x, {.reduction = "batch"}), "\"sum\", \"batchmean\"; got \"batch\"");
  EXPECT_ERROR_HAS(F::cross_entropy(x, tensor<int64_t>({0, 1, 2, 0}), {.reduction = "batchmean"}),
                   "cross_entropy: reduction must be one of \"none\", \"mean\", \"sum\"; got \"batchmean\"");
}

TEST(FLoss, ShapeErrorsNameBothShapes) {
  EXPECT_ERROR_HAS(F::cross_entropy(zeros({32, 10}), zeros({16}, kInt64)),
                   "cross_entropy: input [32, 10] and target [16] disagree on the batch size");
  EXPECT_ERROR_HAS(F::mse_loss(zeros({8, 1}), zeros({8})),
                   "mse_loss: input [8, 1] and target [8] must have the same shape");
  EXPECT_ERROR_HAS(F::cross_entropy(zeros({4, 3}), zeros({4, 3}, kInt64)), "expected a target of shape [4]");
  EXPECT_ERROR_HAS(F::cross_entropy(zeros({4, 3}), zeros({4, 2})),
                   "class probabilities of the input's shape [4, 3]");
  EXPECT_ERROR_HAS(F::cross_entropy(zeros({4, 3}), zeros({4}, kInt64), {.weight = ones({4})}),
                   "weight must be a 1-d tensor with one entry per class (3)");
  EXPECT_ERROR_HAS(F::cross_entropy(zeros({4, 3}), zeros({4}, kInt64), {.label_smoothing = 1.5}),
                   "label_smoothing must be between 0.0 and 1.0");
  EXPECT_ERROR_HAS(F::binary_cross_entropy(full({3}, 1.5), zeros({3})),
                   "binary_cross_entropy: all elements of input");
  EXPECT_ERROR_HAS(F::smooth_l1_loss(zeros({3}), zeros({3}), {.beta = -1}), "beta must be >= 0");
  EXPECT_ERROR_HAS(F::cross_entropy(zeros({2, 3}), zeros({2, 3}), {.ignore_index = 1}),
                   "ignore_index is not supported");
}

TEST(FLoss, UnbatchedSmoothedCrossEntropyMatchesBatched) {
  auto logits = tensor<float>({0.5f, -1.f, 2.f, 0.f});
  auto a = F::cross_entropy(logits, full({}, 2, kInt64),
                            {.weight = tensor<float>({1, 2, 3, 4}), .label_smoothing = 0.3});
  auto b = F::cross_entropy(logits.unsqueeze(0), tensor<int64_t>({2}),
                            {.weight = tensor<float>({1, 2, 3, 4}), .label_smoothing = 0.3});
  EXPECT_EQ(a.shape(), Shape({}));
  EXPECT_NEAR(a.item<float>(), b.item<float>(), 1e-6);
}

TEST(FLoss, CoreCrossEntropyKeepsItsSignatureAndTakesTheNewOptions) {
  auto logits = randn({5, 4});
  auto t = tensor<int64_t>({0, 3, 1, 2, 1});
  EXPECT_TRUE(allclose(cross_entropy(logits, t), F::cross_entropy(logits, t)));
  auto w = tensor<float>({0.5f, 1.f, 2.f, 1.5f});
  EXPECT_TRUE(
      allclose(cross_entropy(logits, t, "sum", -100, w, 0.1),
               F::cross_entropy(logits, t, {.weight = w, .reduction = "sum", .label_smoothing = 0.1})));
}

TEST(FLoss, LogitsLossIsStableForLargeLogits) {
  auto z = tensor<float>({100.f, -100.f, 1000.f});
  auto l = F::binary_cross_entropy_with_logits(z, tensor<float>({0.f, 1.f, 1.f}), {.reduction = "none"});
  auto v = l.to_vector<float>();
  EXPECT_NEAR(v[0], 100.f, 1e-4);
  EXPECT_NEAR(v[1], 100.f, 1e-4);
  EXPECT_NEAR(v[2], 0.f, 1e-6);
}

TEST(FLoss, IntegerBinaryTargetsAreAccepted) {
  auto p = tensor<float>({0.2f, 0.7f});
  EXPECT_TRUE(allclose(F::binary_cross_entropy(p, tensor<int64_t>({0, 1})),
                       F::binary_cross_entropy(p, tensor<float>({0.f, 1.f}))));
}

}  // namespace
}  // namespace nabla::testing
