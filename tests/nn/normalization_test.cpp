// BatchNorm1d/2d, LayerNorm, GroupNorm modules: PyTorch fixtures through the module API (three
// training steps, buffers, eval), printing, state_dict, clone, errors.
#include "nabla/nn/normalization.h"

#include <gtest/gtest.h>

#include <sstream>

#include "nabla/nn/batchnorm.h"
#include "support/expect_error.h"
#include "support/fixture_suite.h"

namespace nabla::testing {
namespace {

Tensor fx(const std::string& c, const std::string& f) { return fixture_in("nn/norms", c, f); }

/// Runs gen_norms.py's bn_steps through a module: 3 training steps, then eval.
template <typename BN>
void check_bn_module(const std::string& c, BN bn, bool affine = true) {
  if (affine) {
    NoGradGuard g;
    bn->weight.copy_(fx(c, "in4"));
    bn->bias.copy_(fx(c, "in5"));
  }
  for (int k = 0; k < 3; ++k)
    EXPECT_TRUE(
        tensors_close(bn(fx(c, "in" + std::to_string(k))), fx(c, "out" + std::to_string(k)), 1e-5, 1e-5))
        << c << " step " << k;
  EXPECT_EQ(bn->num_batches_tracked.template item<int64_t>(), 3);
  EXPECT_TRUE(tensors_close(bn->running_mean, fx(c, "out3"), 1e-5, 1e-6)) << c;
  EXPECT_TRUE(tensors_close(bn->running_var, fx(c, "out4"), 1e-5, 1e-6)) << c;
  bn->eval();
  EXPECT_TRUE(tensors_close(bn(fx(c, "in3")), fx(c, "out5"), 1e-5, 1e-5)) << c;
  EXPECT_EQ(bn->num_batches_tracked.template item<int64_t>(), 3);  // eval does not count
}

TEST(BatchNorm, ModulesMatchPyTorchOverThreeStepsAndEval) {
  check_bn_module("bn2d_train3_eval", nn::BatchNorm2d(3));
  check_bn_module("bn1d_train3_eval", nn::BatchNorm1d(4));
  check_bn_module("bn1d_3d_train3_eval", nn::BatchNorm1d(3));
  check_bn_module("bn2d_momentum03_eps1e3",
                  nn::BatchNorm2d({.num_features = 2, .eps = 1e-3, .momentum = 0.3}));
  check_bn_module("bn2d_no_affine", nn::BatchNorm2d({.num_features = 3, .affine = false}), false);
  check_bn_module("bn2d_cumulative", nn::BatchNorm2d({.num_features = 3, .momentum = std::nullopt}));
}

TEST(BatchNorm, GradientsFlowToInputWeightAndBias) {
  const std::string c = "bn2d_no_running_stats";
  nn::BatchNorm2d bn({.num_features = 2, .track_running_stats = false});
  {
    NoGradGuard g;
    bn->weight.copy_(fx(c, "in1"));
    bn->bias.copy_(fx(c, "in2"));
  }
  auto x = fx(c, "in0").set_requires_grad(true);
  auto y = bn(x);
  EXPECT_TRUE(tensors_close(y, fx(c, "out0"), 1e-5, 1e-5));
  autograd::backward({y}, {fx(c, "gout0")});
  EXPECT_TRUE(tensors_close(x.grad(), fx(c, "grad0"), 1e-4, 1e-5));
  EXPECT_TRUE(tensors_close(bn->weight.grad(), fx(c, "grad1"), 1e-4, 1e-5));
  EXPECT_TRUE(tensors_close(bn->bias.grad(), fx(c, "grad2"), 1e-4, 1e-5));
  // Without running stats, eval still normalises with the batch statistics (as PyTorch).
  bn->eval();
  EXPECT_TRUE(tensors_close(bn(fx(c, "in0")), fx(c, "out0"), 1e-5, 1e-5));
}

TEST(BatchNorm, PrintsLikePyTorch) {
  std::ostringstream a, b, c, d;
  a << nn::BatchNorm2d(32);
  EXPECT_EQ(a.str(), "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  b << nn::BatchNorm1d({.num_features = 8, .eps = 0.001, .momentum = std::nullopt, .affine = false});
  EXPECT_EQ(b.str(), "BatchNorm1d(8, eps=0.001, momentum=None, affine=False, track_running_stats=True)");
  c << nn::LayerNorm(64);
  EXPECT_EQ(c.str(), "LayerNorm((64,), eps=1e-05, elementwise_affine=True)");
  c.str("");
  c << nn::LayerNorm(Shape{3, 4}, 1e-6, false);
  EXPECT_EQ(c.str(), "LayerNorm((3, 4), eps=1e-06, elementwise_affine=False)");
  d << nn::GroupNorm(2, 6);
  EXPECT_EQ(d.str(), "GroupNorm(2, 6, eps=1e-05, affine=True)");
}

TEST(BatchNorm, StateDictBuffersAndClone) {
  nn::BatchNorm2d bn(4);
  std::vector<std::string> keys;
  for (auto& [k, v] : bn->state_dict()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                            "num_batches_tracked"}));
  EXPECT_EQ(bn->parameters().size(), 2u);
  EXPECT_EQ(bn->num_batches_tracked.dtype(), kInt64);
  bn(randn({3, 4, 2, 2}));
  auto copy = bn.clone();
  EXPECT_TRUE(equal(copy->running_mean, bn->running_mean));
  EXPECT_FALSE(copy->running_mean.shares_storage_with(bn->running_mean));
  EXPECT_EQ(copy->num_batches_tracked.item<int64_t>(), 1);
  copy(randn({3, 4, 2, 2}));
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
  EXPECT_EQ(copy->options.num_features, 4);

  nn::BatchNorm2d untracked({.num_features = 4, .track_running_stats = false});
  EXPECT_EQ(untracked->state_dict().size(), 2u);
  bn->reset_running_stats();
  EXPECT_TRUE(equal(bn->running_var, ones({4})));
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);
}

TEST(BatchNorm, RunsInFloat64AfterTo) {
  nn::BatchNorm1d bn(3);
  bn->to(kFloat64);
  auto y = bn(randn({5, 3}, kFloat64));
  EXPECT_EQ(y.dtype(), kFloat64);
  EXPECT_EQ(bn->running_mean.dtype(), kFloat64);
  EXPECT_EQ(bn->num_batches_tracked.dtype(), kInt64);
}

TEST(BatchNorm, ErrorsNameTheLayerAndShape) {
  nn::BatchNorm2d bn(32);
  EXPECT_ERROR_HAS(bn(randn({8, 32})), "BatchNorm2d: expected a 4-d [N, C, H, W] input, got shape [8, 32]");
  EXPECT_ERROR_HAS(
      bn(randn({8, 16, 4, 4})),
      "BatchNorm2d: expected 32 channels (num_features) in dim 1, got input of shape [8, 16, 4, 4]");
  EXPECT_ERROR_HAS(bn(randn({1, 32, 1, 1})),
                   "BatchNorm2d: expected more than 1 value per channel when training");
  nn::BatchNorm1d b1(4);
  EXPECT_ERROR_HAS(b1(randn({2, 4, 3, 3})), "BatchNorm1d: expected a 2-d [N, C] or 3-d [N, C, L] input");
  EXPECT_ERROR_HAS(nn::BatchNorm1d(0), "BatchNorm1d: num_features must be positive");
  EXPECT_ERROR_HAS(nn::LayerNorm(8)(randn({2, 4})), "LayerNorm: expected an input whose last dims are [8]");
  EXPECT_ERROR_HAS(nn::GroupNorm(4, 6),
                   "GroupNorm: num_channels (6) must be a positive multiple of num_groups (4)");
  EXPECT_ERROR_HAS(nn::GroupNorm(2, 6)(randn({2, 4, 3})), "GroupNorm: expected an input of shape [N, 6, *]");
}

TEST(LayerNormGroupNorm, ModulesMatchPyTorch) {
  {
    const std::string c = "layer_norm_last2";
    nn::LayerNorm ln(Shape{3, 4}, 1e-3);
    NoGradGuard g;
    ln->weight.copy_(fx(c, "in1"));
    ln->bias.copy_(fx(c, "in2"));
    EXPECT_TRUE(tensors_close(ln(fx(c, "in0")), fx(c, "out0"), 1e-5, 1e-5));
  }
  {
    const std::string c = "group_norm_3groups";
    nn::GroupNorm gn(3, 6);
    NoGradGuard g;
    gn->weight.copy_(fx(c, "in1"));
    gn->bias.copy_(fx(c, "in2"));
    EXPECT_TRUE(tensors_close(gn(fx(c, "in0")), fx(c, "out0"), 1e-5, 1e-5));
  }
  nn::LayerNorm plain({.normalized_shape = {5}, .elementwise_affine = false});
  EXPECT_TRUE(plain->parameters().empty());
  EXPECT_TRUE(tensors_close(plain(fx("layer_norm_no_affine", "in0")), fx("layer_norm_no_affine", "out0"),
                            1e-5, 1e-5));
  nn::GroupNorm gn4({.num_groups = 4, .num_channels = 4, .affine = false});
  EXPECT_TRUE(tensors_close(gn4(fx("group_norm_instance_no_affine", "in0")),
                            fx("group_norm_instance_no_affine", "out0"), 1e-5, 1e-5));
}

}  // namespace
}  // namespace nabla::testing
