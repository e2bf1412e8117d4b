// Loss modules: same values as nabla::F, errors named after the module, weight buffers, clone.
#include "nabla/nn/loss.h"

#include <gtest/gtest.h>

#include <sstream>

#include "nabla/nabla.h"
#include "support/expect_error.h"

namespace nabla {
namespace {

TEST(LossModules, AgreeWithTheFunctionalForm) {
  manual_seed(1);
  auto logits = randn({6, 4}), labels = tensor<int64_t>({0, 3, 2, -100, 1, 1});
  auto w = tensor<float>({0.5f, 1.f, 2.f, 1.5f});
  nn::CrossEntropyLoss ce({.weight = w, .label_smoothing = 0.1});
  EXPECT_TRUE(
      allclose(ce(logits, labels), F::cross_entropy(logits, labels, {.weight = w, .label_smoothing = 0.1})));
  nn::NLLLoss nll({.weight = w, .reduction = "sum"});
  auto lp = log_softmax(logits, 1);
  EXPECT_TRUE(allclose(nll(lp, labels), F::nll_loss(lp, labels, {.weight = w, .reduction = "sum"})));

  auto a = randn({3, 5}), b = randn({3, 5});
  EXPECT_TRUE(allclose(nn::MSELoss()(a, b), F::mse_loss(a, b)));
  EXPECT_TRUE(allclose(nn::L1Loss({.reduction = "sum"})(a, b), F::l1_loss(a, b, {.reduction = "sum"})));
  EXPECT_TRUE(allclose(nn::SmoothL1Loss({.beta = 0.5})(a, b), F::smooth_l1_loss(a, b, {.beta = 0.5})));
  auto p = sigmoid(a), t = rand({3, 5});
  EXPECT_TRUE(allclose(nn::BCELoss()(p, t), F::binary_cross_entropy(p, t)));
  auto pw = full({5}, 2.0);
  EXPECT_TRUE(allclose(nn::BCEWithLogitsLoss({.pos_weight = pw})(a, t),
                       F::binary_cross_entropy_with_logits(a, t, {.pos_weight = pw})));
  auto q = softmax(b, 1);
  EXPECT_TRUE(allclose(nn::KLDivLoss({.reduction = "batchmean"})(log_softmax(a, 1), q),
                       F::kl_div(log_softmax(a, 1), q, {.reduction = "batchmean"})));
}

TEST(LossModules, TrainingLoopSpelling) {
  nn::CrossEntropyLoss criterion;
  auto x = randn({4, 3}).set_requires_grad(true);
  auto loss = criterion(x, tensor<int64_t>({0, 1, 2, 1}));
  loss.backward();
  EXPECT_EQ(loss.shape(), Shape({}));
  EXPECT_TRUE(x.grad().defined());
}

TEST(LossModules, ErrorsNameTheLossAndBothShapes) {
  nn::CrossEntropyLoss criterion;
  EXPECT_ERROR_HAS(criterion(zeros({32, 10}), zeros({16}, kInt64)),
                   "CrossEntropyLoss: input [32, 10] and target [16] disagree on the batch size");
  EXPECT_ERROR_HAS(nn::NLLLoss()(zeros({4, 3}), tensor<int64_t>({0, 1, 2, 7})),
                   "NLLLoss: target 7 is out of bounds");
  EXPECT_ERROR_HAS(nn::MSELoss()(zeros({8, 1}), zeros({8})),
                   "MSELoss: input [8, 1] and target [8] must have the same shape");
  EXPECT_ERROR_HAS(nn::L1Loss({.reduction = "avg"})(zeros({2}), zeros({2})),
                   "L1Loss: reduction must be one of \"none\", \"mean\", \"sum\"; got \"avg\"");
  EXPECT_ERROR_HAS(nn::BCELoss()(full({2}, 2.0), zeros({2})), "BCELoss: all elements of input");
  EXPECT_ERROR_HAS(nn::BCEWithLogitsLoss()(zeros({2, 3}), zeros({3})),
                   "BCEWithLogitsLoss: input [2, 3] and target [3]");
  EXPECT_ERROR_HAS(nn::KLDivLoss()(zeros({2, 3}), zeros({2, 2})),
                   "KLDivLoss: input [2, 3] and target [2, 2]");
  EXPECT_ERROR_HAS(nn::SmoothL1Loss({.beta = -2})(zeros({2}), zeros({2})), "SmoothL1Loss: beta must be >= 0");
}

TEST(LossModules, WeightsAreBuffersAndClonesKeepOptions) {
  auto w = tensor<float>({1.f, 2.f, 3.f});
  nn::CrossEntropyLoss ce({.weight = w, .reduction = "sum"});
  auto sd = ce->state_dict();
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_TRUE(equal(sd.at("weight"), w));
  EXPECT_FALSE(ce->options.weight.shares_storage_with(w));  // the module keeps its own copy
  auto copy = ce.clone();
  EXPECT_EQ(copy->options.reduction, "sum");
  EXPECT_TRUE(equal(copy->options.weight, w));
  EXPECT_FALSE(copy->options.weight.shares_storage_with(ce->options.weight));
  nn::MSELoss mse({.reduction = "none"});
  EXPECT_EQ(mse.clone()->options.reduction, "none");
  nn::BCEWithLogitsLoss bce({.weight = ones({3}), .pos_weight = full({3}, 2.0)});
  EXPECT_EQ(bce->buffers().size(), 2u);
  ce->to(kFloat64);
  EXPECT_EQ(ce->options.weight.dtype(), kFloat64);
  auto l = ce(randn({2, 3}, kFloat64), tensor<int64_t>({0, 2}));
  EXPECT_EQ(l.dtype(), kFloat64);
}

TEST(LossModules, PrintLikePyTorch) {
  std::ostringstream os;
  os << nn::CrossEntropyLoss() << " " << nn::BCEWithLogitsLoss() << " " << nn::KLDivLoss();
  EXPECT_EQ(os.str(), "CrossEntropyLoss() BCEWithLogitsLoss() KLDivLoss()");
}

}  // namespace
}  // namespace nabla
