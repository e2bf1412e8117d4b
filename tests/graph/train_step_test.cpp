// A whole training step (forward, loss, backward, optimizer update) compiled into one graph:
// 100 compiled steps follow the eager trajectory within 1e-4.
#include "graph_test_util.h"

namespace nabla::graph {
namespace {

using testing::max_abs_diff;

struct Trajectories {
  std::vector<double> eager, compiled;
  double max_param_diff = 0;
};

template <typename MakeModel, typename MakeOpt>
Trajectories run_both(MakeModel make_model, MakeOpt make_opt, const Shape& x_shape, int64_t classes,
                      int steps) {
  manual_seed(7);
  auto a = make_model();
  auto b = make_model();
  b->load_state_dict(a->state_dict());
  auto opt_a = make_opt(a->parameters());
  auto opt_b = make_opt(b->parameters());
  auto loss_fn = [](const Tensor& out, const Tensor& y) { return F::cross_entropy(out, y); };
  auto step = jit::compile_train_step(*b.ptr(), loss_fn, *opt_b);
  Trajectories t;
  for (int k = 0; k < steps; ++k) {
    Tensor x = randn(x_shape), y = randint(0, classes, {x_shape[0]});
    opt_a->zero_grad();
    Tensor loss = loss_fn(a(x), y);
    loss.backward();
    opt_a->step();
    t.eager.push_back(loss.template item<double>());
    t.compiled.push_back(step(x, y).template item<double>());
  }
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    t.max_param_diff = std::max(t.max_param_diff, max_abs_diff(pa[i], pb[i]));
  auto ba = a->buffers(), bb = b->buffers();  // BatchNorm running statistics (graph updates)
  for (size_t i = 0; i < ba.size(); ++i)
    t.max_param_diff = std::max(t.max_param_diff, max_abs_diff(ba[i], bb[i]));
  EXPECT_EQ(step.stats().traces, 2);  // trace, retrace once the optimizer state exists
  EXPECT_EQ(step.stats().graph_runs, steps - 2);
  return t;
}

void expect_follow(const Trajectories& t, double tol) {
  for (size_t k = 0; k < t.eager.size(); ++k) ASSERT_NEAR(t.compiled[k], t.eager[k], tol) << "step " << k;
  EXPECT_LT(t.max_param_diff, tol);
}

nn::Sequential mlp() { return nn::Sequential{nn::Linear(12, 32), nn::ReLU(), nn::Linear(32, 4)}; }

TEST(TrainStep, MlpAdam100StepsFollowEager) {
  auto t = run_both(
      mlp,
      [](std::vector<Tensor> p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 1e-2}); },
      {16, 12}, 4, 100);
  expect_follow(t, 1e-4);
  EXPECT_LT(t.eager.back(), t.eager.front());  // it trains
}

TEST(TrainStep, MlpSgdMomentumWeightDecay100StepsFollowEager) {
  auto t = run_both(
      mlp,
      [](std::vector<Tensor> p) {
        return std::make_unique<optim::SGD>(
            p, optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3});
      },
      {16, 12}, 4, 100);
  expect_follow(t, 1e-4);
}

TEST(TrainStep, CnnWithBatchNormAdamW100StepsFollowEager) {
  auto make = [] {
    return nn::Sequential{nn::Conv2d({.in = 1, .out = 4, .kernel = 3, .padding = 1}),
                          nn::BatchNorm2d(4),
                          nn::ReLU(),
                          nn::MaxPool2d(2),
                          nn::Flatten(),
                          nn::Linear(4 * 4 * 4, 3)};
  };
  manual_seed(9);
  auto t = run_both(
      make,
      [](std::vector<Tensor> p) {
        return std::make_unique<optim::AdamW>(p, optim::AdamWOptions{.lr = 1e-2});
      },
      {8, 1, 8, 8}, 3, 100);
  expect_follow(t, 1e-4);
}

TEST(TrainStep, WholeStepIsOneGraphWithUpdates) {
  manual_seed(5);
  auto model = mlp();
  optim::Adam opt(model->parameters(), {.lr = 1e-3});
  auto step = jit::compile_train_step(
      *model.ptr(), [](const Tensor& o, const Tensor& y) { return F::cross_entropy(o, y); }, opt);
  Tensor x = randn({8, 12}), y = randint(0, 4, {8});
  for (int k = 0; k < 3; ++k) step(x, y);
  const jit::Graph* g = step.last_graph();
  ASSERT_NE(g, nullptr);
  std::string d = g->dump();
  // forward (linear + fused relu), backward (matmuls of the VJPs), 4 Adam updates written in place
  EXPECT_NE(d.find("linear("), std::string::npos) << d;
  EXPECT_NE(d.find("+relu"), std::string::npos) << d;
  size_t adam = 0;
  for (size_t p = d.find("adam_step("); p != std::string::npos; p = d.find("adam_step(", p + 1)) ++adam;
  EXPECT_EQ(adam, 4u) << d;
  EXPECT_NE(d.find("inplace("), std::string::npos) << d;
  // A compiled step leaves no allocation behind: the arena is reused.
  auto before = memory_stats();
  for (int k = 0; k < 3; ++k) step(x, y);
  auto after = memory_stats();
  EXPECT_EQ(after.system_allocs, before.system_allocs);
}

TEST(TrainStep, ReturnsLossAndOutputForMetrics) {
  manual_seed(6);
  auto model = mlp();
  auto copy = mlp();
  copy->load_state_dict(model->state_dict());
  optim::SGD opt(model->parameters(), {.lr = 0.1});
  auto step = jit::compile_train_step(
      *model.ptr(), [](const Tensor& o, const Tensor& y) { return F::cross_entropy(o, y); }, opt);
  Tensor x = randn({8, 12}), y = randint(0, 4, {8});
  for (int k = 0; k < 3; ++k) {
    Tensor expect_out;
    {
      NoGradGuard ng;
      expect_out = model(x);  // the output the step sees (before its update)
    }
    std::vector<Tensor> r = step(std::vector<Tensor>{x, y});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_LT(max_abs_diff(r[1], expect_out), 1e-6);
    EXPECT_NEAR(r[0].item<double>(), F::cross_entropy(expect_out, y).item<double>(), 1e-6);
  }
}

struct UserNet : nn::Module {
  nn::Linear fc{6, 3};
  UserNet() { register_module("fc", fc); }
  Tensor forward(Tensor x) override { return F::gelu(fc(x)); }
};

TEST(TrainStep, NablaCompileAcceptsUserModulesAndHolders) {
  UserNet net;
  auto f = nabla::compile(net);  // nabla::compile is jit::compile
  Tensor x = randn({4, 6});
  f(x);
  Tensor y = f(x);
  NoGradGuard ng;
  EXPECT_LT(max_abs_diff(y, net(x)), 1e-6);
  EXPECT_NE(f.last_graph()->dump().find("param \"fc.weight\""), std::string::npos) << f.last_graph()->dump();
  nn::Sequential seq{nn::Linear(6, 2)};
  auto g = nabla::compile(seq);
  g(x);
  EXPECT_LT(max_abs_diff(g(x), seq(x)), 1e-6);
}

TEST(TrainStep, MlpRMSprop100StepsFollowEager) {
  // RMSprop's update is the registry op rmsprop_step (momentum and centered variants here).
  auto t = run_both(
      mlp,
      [](std::vector<Tensor> p) {
        return std::make_unique<optim::RMSprop>(
            p, optim::RMSpropOptions{.lr = 1e-3, .momentum = 0.9, .centered = true});
      },
      {16, 12}, 4, 100);
  expect_follow(t, 1e-4);
  EXPECT_LT(t.eager.back(), t.eager.front());
}

TEST(TrainStep, UntraceableOptimizerSaysSo) {
  auto model = mlp();
  optim::Adagrad opt(model->parameters(), {.lr = 1e-3});
  auto step = jit::compile_train_step(
      *model.ptr(), [](const Tensor& o, const Tensor& y) { return F::cross_entropy(o, y); }, opt);
  try {
    step(randn({4, 12}), randint(0, 4, {4}));
    FAIL() << "expected nabla::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Adagrad.step() cannot be traced"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nabla::graph
