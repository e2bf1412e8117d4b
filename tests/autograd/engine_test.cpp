// Autograd engine: accumulation, graph lifetime, modes, hooks, higher-order gradients, in-place checks.
#include <gtest/gtest.h>

#include "nabla/nabla.h"

namespace nabla {
namespace {

Tensor leaf(std::vector<float> v) { return tensor(v).set_requires_grad(true); }

TEST(Autograd, SimpleChainRule) {
  auto x = leaf({1.f, 2.f, 3.f});
  auto y = (x * x * 3.0).sum();  // dy/dx = 6x
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6.f, 12.f, 18.f}));
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  auto x = leaf({1.f, -2.f});
  (x * 2.0).sum().backward();
  (x * 3.0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5.f, 5.f}));
}

TEST(Autograd, SharedGradientIsNotAliasedBetweenLeaves) {
  auto a = leaf({1.f}), b = leaf({2.f});
  (a + b).sum().backward();  // add passes the same gradient tensor to both inputs
  a.grad().mul_(10.0);
  EXPECT_EQ(b.grad().item<float>(), 1.f);
}

TEST(Autograd, NonScalarBackwardNeedsGradient) {
  auto x = leaf({1.f, 2.f});
  auto y = x * 2.0;
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scalar"), std::string::npos) << e.what();
  }
  y.backward(tensor({1.f, 0.5f}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2.f, 1.f}));
}

TEST(Autograd, SecondBackwardWithoutRetainGraphThrows) {
  auto x = leaf({1.f, 2.f});
  auto y = (x * x).sum();
  y.backward();
  EXPECT_THROW(y.backward(), Error);
}

TEST(Autograd, RetainGraphAllowsSecondBackward) {
  auto x = leaf({1.f, 2.f});
  auto y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{4.f, 8.f}));
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  auto x = leaf({1.f});
  Tensor y;
  {
    NoGradGuard g;
    y = x * 2.0;
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST(Autograd, DetachCutsHistoryAndSharesData) {
  auto x = leaf({1.f, 2.f});
  auto y = x * 2.0;
  auto d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.shares_storage_with(y));
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(x.is_leaf());
}

TEST(Autograd, LeafOnlyGetsGradUnlessRetained) {
  auto x = leaf({1.f, 2.f});
  auto y = x * 3.0;
  auto z = y * 2.0;
  y.retain_grad();
  z.sum().backward();
  EXPECT_EQ(y.grad().to_vector<float>(), (std::vector<float>{2.f, 2.f}));
  auto w = x * 4.0;
  (w * 1.0).sum().backward();
  EXPECT_FALSE(w.grad().defined());
}

TEST(Autograd, HooksSeeAndReplaceGradients) {
  auto x = leaf({1.f, 2.f});
  auto y = x * 2.0;
  Tensor seen;
  y.register_hook([&](const Tensor& g) {
    seen = g.clone();
    return g * 10.0;
  });
  x.register_hook([](const Tensor& g) { return g + 1.0; });
  y.sum().backward();
  EXPECT_EQ(seen.to_vector<float>(), (std::vector<float>{1.f, 1.f}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{21.f, 21.f}));
}

TEST(Autograd, GradFunctionDoesNotTouchDotGrad) {
  auto x = leaf({3.f});
  auto y = (x * x * x).sum();
  auto g = autograd::grad({y}, {x});
  EXPECT_FLOAT_EQ(g[0].item<float>(), 27.f);
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, SecondDerivativeWithCreateGraph) {
  auto x = tensor({2.0}, kFloat64).set_requires_grad(true);
  auto y = (x * x * x).sum();                                              // y = x^3
  auto dy = autograd::grad({y}, {x}, {}, true, /*create_graph=*/true)[0];  // 3x^2 = 12
  EXPECT_DOUBLE_EQ(dy.item<double>(), 12.0);
  ASSERT_TRUE(dy.requires_grad());
  auto d2y = autograd::grad({dy.sum()}, {x})[0];  // 6x = 12
  EXPECT_DOUBLE_EQ(d2y.item<double>(), 12.0);
}

TEST(Autograd, GradWithRespectToNonLeaf) {
  auto x = leaf({1.f, 2.f});
  auto h = x * 3.0;
  auto y = (h * h).sum();
  auto g = autograd::grad({y}, {h});
  EXPECT_EQ(g[0].to_vector<float>(), (std::vector<float>{6.f, 12.f}));
}

TEST(Autograd, UnusedInputIsAnErrorUnlessAllowed) {
  auto x = leaf({1.f}), z = leaf({1.f});
  auto y = (x * 2.0).sum();
  EXPECT_THROW(autograd::grad({y}, {z}, {}, true), Error);
  auto g = autograd::grad({y}, {z}, {}, false, false, /*allow_unused=*/true);
  EXPECT_FALSE(g[0].defined());
}

TEST(Autograd, InPlaceChangeOfSavedTensorIsDetected) {
  auto x = leaf({1.f, 2.f});
  auto h = x * 1.0;
  auto y = h * h;  // saves h
  h.add_(1.0);     // modifies a saved tensor
  try {
    y.sum().backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("in-place"), std::string::npos) << e.what();
  }
}

TEST(Autograd, InPlaceOnLeafRequiringGradThrows) {
  auto x = leaf({1.f});
  EXPECT_THROW(x.add_(1.0), Error);
  NoGradGuard g;
  x.add_(1.0);  // fine without recording (optimizer updates)
  EXPECT_EQ(x.item<float>(), 2.f);
}

TEST(Autograd, InPlaceOnNonLeafRebasesHistory) {
  auto x = leaf({1.f, 2.f});
  auto h = x * 2.0;
  h.mul_(h);  // h = (2x)^2, dh/dx = 8x
  h.sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{8.f, 16.f}));
}

TEST(Autograd, ViewsAliasTheirBase) {
  auto base = zeros({2, 3});
  auto v = base.select(0, 1);
  v.fill_(5.0);
  EXPECT_EQ(base.to_vector<float>(), (std::vector<float>{0, 0, 0, 5, 5, 5}));
  EXPECT_TRUE(v.shares_storage_with(base));
  EXPECT_EQ(base.version(), v.version());
}

TEST(Autograd, GraphMemoryIsFreedByBackward) {
  auto x = randn({256, 256}).set_requires_grad(true);
  size_t before = memory_stats().live_bytes;
  {
    auto y = x.exp();  // saves its 256 KiB output
    auto z = (y * y).sum();
    z.backward();
    // Saved tensors were released by backward; only what the handles y and z hold remains.
  }
  x.set_grad({});
  EXPECT_EQ(memory_stats().live_bytes, before);
}

TEST(Autograd, BackwardOnTensorWithoutGradThrows) {
  auto x = tensor({1.f});
  try {
    x.backward();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not require grad"), std::string::npos) << e.what();
  }
}

TEST(Autograd, IntegerTensorsCannotRequireGrad) {
  EXPECT_THROW(tensor({1, 2}).set_requires_grad(true), Error);
}

TEST(Autograd, GradcheckDetectsAWrongGradient) {
  // A hook that corrupts the gradient must be caught by gradcheck.
  auto x = tensor({0.5, 1.5}, kFloat64).set_requires_grad(true);
  auto fn = [](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    auto y = in[0] * in[0];
    y.register_hook([](const Tensor& g) { return g * 1.5; });
    return {y};
  };
  EXPECT_THROW(autograd::gradcheck(fn, {x}), Error);
  auto good = [](const std::vector<Tensor>& in) -> std::vector<Tensor> { return {in[0] * in[0]}; };
  EXPECT_TRUE(autograd::gradcheck(good, {x}));
}

}  // namespace
}  // namespace nabla
