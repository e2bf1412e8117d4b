// The data-parallel schedule of compile_train_step (src/graph/sharded_step.cpp): sharded steps
// follow the eager trajectory within 1e-4 over 100 steps, are bit-identical at 1 and 2 threads,
// and steps that are not separable over samples (Dropout, BatchNorm in training mode, a loss that
// mixes samples) fall back to the whole-batch graph and still match.
#include "graph/sharded_step.h"

#include "graph_test_util.h"

namespace nabla::graph {
namespace {

using testing::max_abs_diff;
using Loss = jit::LossFn;

Tensor ce(const Tensor& out, const Tensor& y) { return F::cross_entropy(out, y); }

nn::Sequential mlp() { return nn::Sequential{nn::Linear(12, 32), nn::ReLU(), nn::Linear(32, 4)}; }
nn::Sequential cnn() {
  return nn::Sequential{nn::Conv2d({.in = 1, .out = 4, .kernel = 3, .padding = 1}),
                        nn::ReLU(),
                        nn::MaxPool2d(2),
                        nn::Conv2d({.in = 4, .out = 6, .kernel = 3, .padding = 1}),
                        nn::ReLU(),
                        nn::Flatten(),
                        nn::Linear(6 * 4 * 4, 3)};
}

std::unique_ptr<optim::Optimizer> adam(std::vector<Tensor> p) {
  return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 1e-2});
}

struct Trajectory {
  std::vector<double> losses;
  std::vector<Tensor> params;  // after the last step (copies)
  jit::CompiledFunction::Stats stats;
};

/// `steps` training steps from seed 7 (same model init, batches and random draws each time):
/// eagerly when `compiled` is false, else through compile_train_step with `options`.
template <typename MakeModel>
Trajectory train(MakeModel make_model, const Shape& x_shape, int64_t classes, int steps, bool compiled,
                 jit::CompileOptions options = {}, Loss loss_fn = ce, bool train_mode = true,
                 std::unique_ptr<optim::Optimizer> (*make_opt)(std::vector<Tensor>) = adam) {
  manual_seed(7);
  auto model = make_model();
  model->train(train_mode);
  auto opt = make_opt(model->parameters());
  std::optional<jit::CompiledFunction> step;
  if (compiled) step = jit::compile_train_step(*model.ptr(), loss_fn, *opt, options);
  Trajectory r;
  for (int k = 0; k < steps; ++k) {
    Tensor x = randn(x_shape), y = randint(0, classes, {x_shape[0]});
    if (compiled) {
      r.losses.push_back((*step)(x, y).item<double>());
    } else {
      opt->zero_grad();
      Tensor loss = loss_fn(model(x), y);
      loss.backward();
      opt->step();
      r.losses.push_back(loss.item<double>());
    }
  }
  for (const Tensor& p : model->parameters()) r.params.push_back(p.detach().clone());
  for (const Tensor& b : model->buffers()) r.params.push_back(b.detach().clone());
  if (compiled) r.stats = step->stats();
  return r;
}

void expect_close(const Trajectory& a, const Trajectory& b, double tol) {
  ASSERT_EQ(a.losses.size(), b.losses.size());
  for (size_t k = 0; k < a.losses.size(); ++k) ASSERT_NEAR(a.losses[k], b.losses[k], tol) << "step " << k;
  for (size_t i = 0; i < a.params.size(); ++i) EXPECT_LT(max_abs_diff(a.params[i], b.params[i]), tol) << i;
}

void expect_identical(const Trajectory& a, const Trajectory& b) {
  ASSERT_EQ(a.losses.size(), b.losses.size());
  for (size_t k = 0; k < a.losses.size(); ++k) ASSERT_EQ(a.losses[k], b.losses[k]) << "step " << k;
  for (size_t i = 0; i < a.params.size(); ++i) EXPECT_EQ(max_abs_diff(a.params[i], b.params[i]), 0.0) << i;
}

/// Restores the thread count on scope exit.
struct Threads {
  int saved = get_num_threads();
  explicit Threads(int n) { set_num_threads(n); }
  ~Threads() { set_num_threads(saved); }
};

TEST(ShardedStep, AutoShardCountDependsOnTheBatchOnly) {
  EXPECT_EQ(jit::detail::choose_shards(16, 0), 1);
  EXPECT_EQ(jit::detail::choose_shards(32, 0), 2);
  EXPECT_EQ(jit::detail::choose_shards(1000, 0), 2);
  EXPECT_EQ(jit::detail::choose_shards(32, 1), 1);
  EXPECT_EQ(jit::detail::choose_shards(5, 8), 5);
}

TEST(ShardedStep, Mlp100StepsFollowEager) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  Trajectory eager = train(mlp, {32, 12}, 4, 100, false);
  Trajectory sharded = train(mlp, {32, 12}, 4, 100, true);
  EXPECT_EQ(sharded.stats.shards, 2);
  EXPECT_EQ(sharded.stats.traces, 2);  // trace, retrace; the 3rd call builds the shards
  EXPECT_EQ(sharded.stats.graph_runs, 98);
  EXPECT_GT(sharded.stats.shard_arena_bytes, 0);
  expect_close(eager, sharded, 1e-4);
  EXPECT_LT(eager.losses.back(), eager.losses.front());  // it trains
}

TEST(ShardedStep, Cnn100StepsFollowEager) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  Trajectory eager = train(cnn, {32, 1, 8, 8}, 3, 100, false);
  Trajectory sharded = train(cnn, {32, 1, 8, 8}, 3, 100, true);
  EXPECT_EQ(sharded.stats.shards, 2);
  expect_close(eager, sharded, 1e-4);
}

TEST(ShardedStep, SgdAndRmspropShardAndFollowEager) {
  Threads one(1);
  auto sgd = [](std::vector<Tensor> p) -> std::unique_ptr<optim::Optimizer> {
    return std::make_unique<optim::SGD>(p,
                                        optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3});
  };
  auto rms = [](std::vector<Tensor> p) -> std::unique_ptr<optim::Optimizer> {
    return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions{.lr = 1e-3});
  };
  for (auto make_opt : {+sgd, +rms}) {
    Trajectory eager = train(mlp, {32, 12}, 4, 40, false, {}, ce, true, make_opt);
    Trajectory sharded = train(mlp, {32, 12}, 4, 40, true, {}, ce, true, make_opt);
    EXPECT_EQ(sharded.stats.shards, 2);
    expect_close(eager, sharded, 1e-4);
  }
}

TEST(ShardedStep, UnevenShardsFollowEager) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  // 3 shards of 11, 11 and 10 samples: two shard graphs, weights 11/32 and 10/32.
  Trajectory eager = train(mlp, {32, 12}, 4, 30, false);
  Trajectory sharded = train(mlp, {32, 12}, 4, 30, true, {.batch_shards = 3});
  EXPECT_EQ(sharded.stats.shards, 3);
  expect_close(eager, sharded, 1e-4);
}

TEST(ShardedStep, BitIdenticalAtOneAndTwoThreads) {
  // 2 shards (one round of two lanes at 2 threads) and 3 uneven shards (two rounds, the second
  // with one lane idle): the same sums in the same order at 1 thread.
  const std::pair<nn::Sequential (*)(), Shape> cases[] = {{mlp, {32, 12}}, {cnn, {32, 1, 8, 8}}};
  for (int shards : {0, 3})
    for (const auto& [make, shape] : cases) {
      Trajectory one, two;
      {
        Threads t(1);
        one = train(make, shape, 3, 12, true, {.batch_shards = shards});
      }
      {
        Threads t(2);
        two = train(make, shape, 3, 12, true, {.batch_shards = shards});
      }
      EXPECT_EQ(one.stats.shards, shards ? shards : 2);
      EXPECT_EQ(two.stats.shards, shards ? shards : 2);
      expect_identical(one, two);
    }
}

TEST(ShardedStep, OneThreadReusesOneArenaForAllShards) {
  // Shards that never run at the same time share their lane's arena: at 1 thread the schedule
  // holds one shard arena, at 2 threads two.
  int64_t bytes[2];
  for (int t = 1; t <= 2; ++t) {
    Threads th(t);
    bytes[t - 1] = train(cnn, {32, 1, 8, 8}, 3, 4, true).stats.shard_arena_bytes;
  }
  EXPECT_GT(bytes[0], 0);
  EXPECT_LT(bytes[0], bytes[1]);
}

TEST(ShardedStep, DropoutInTrainingFallsBackAndMatchesEager) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  auto make = [] {
    return nn::Sequential{nn::Linear(12, 32), nn::ReLU(), nn::Dropout(0.3), nn::Linear(32, 4)};
  };
  Trajectory eager = train(make, {32, 12}, 4, 20, false);
  Trajectory compiled = train(make, {32, 12}, 4, 20, true);
  EXPECT_EQ(compiled.stats.shards, 1);
  EXPECT_EQ(compiled.stats.graph_runs, 18);
  expect_close(eager, compiled, 1e-4);
}

TEST(ShardedStep, BatchNormInTrainingFallsBackAndMatchesEager) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  auto make = [] {
    return nn::Sequential{nn::Conv2d({.in = 1, .out = 4, .kernel = 3, .padding = 1}), nn::BatchNorm2d(4),
                          nn::ReLU(), nn::Flatten(), nn::Linear(4 * 8 * 8, 3)};
  };
  Trajectory eager = train(make, {32, 1, 8, 8}, 3, 20, false);
  Trajectory compiled = train(make, {32, 1, 8, 8}, 3, 20, true);
  EXPECT_EQ(compiled.stats.shards, 1);
  expect_close(eager, compiled, 1e-4);  // includes the running statistics
}

TEST(ShardedStep, BatchNormInEvalModeShards) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  // Eval-mode BatchNorm normalises each sample by the running statistics: separable.
  auto make = [] {
    return nn::Sequential{nn::Linear(12, 16), nn::BatchNorm1d(16), nn::ReLU(), nn::Linear(16, 4)};
  };
  Trajectory eager = train(make, {32, 12}, 4, 20, false, {}, ce, false);
  Trajectory compiled = train(make, {32, 12}, 4, 20, true, {}, ce, false);
  EXPECT_EQ(compiled.stats.shards, 2);
  expect_close(eager, compiled, 1e-4);
}

TEST(ShardedStep, SumLossShardsWithWeightOne) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  Loss sum = [](const Tensor& out, const Tensor& y) {
    return F::cross_entropy(out, y, {.reduction = "sum"});
  };
  Trajectory eager = train(mlp, {32, 12}, 4, 30, false, {}, sum);
  Trajectory compiled = train(mlp, {32, 12}, 4, 30, true, {}, sum);
  EXPECT_EQ(compiled.stats.shards, 2);
  expect_close(eager, compiled, 1e-3);  // a sum over 32 samples: losses ~40
  for (size_t i = 0; i < eager.params.size(); ++i)
    EXPECT_LT(max_abs_diff(eager.params[i], compiled.params[i]), 1e-4);
}

TEST(ShardedStep, LossMixingSamplesFallsBackAndMatchesEager) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  // Centring the logits by the batch mean couples the samples: the sharded gradients differ from
  // the whole batch's, so the check at build time refuses the schedule.
  Loss mixed = [](const Tensor& out, const Tensor& y) {
    return F::cross_entropy(out - out.mean({0}, true), y);
  };
  Trajectory eager = train(mlp, {32, 12}, 4, 20, false, {}, mixed);
  Trajectory compiled = train(mlp, {32, 12}, 4, 20, true, {}, mixed);
  EXPECT_EQ(compiled.stats.shards, 1);
  EXPECT_EQ(compiled.stats.graph_runs, 18);
  expect_close(eager, compiled, 1e-4);
}

TEST(ShardedStep, AutoSkipsParameterHeavyStepsButTwoShardsForcesIt) {
  Threads one(1);  // quick under a loaded CI; threads are covered by BitIdenticalAtOneAndTwoThreads
  // 16k parameters, a small batch: the whole-batch arena is under 4x the parameter bytes, so the
  // default keeps the whole-batch graph; batch_shards = 2 shards it anyway (and still matches).
  auto make = [] { return nn::Sequential{nn::Linear(256, 64), nn::ReLU(), nn::Linear(64, 4)}; };
  Trajectory eager = train(make, {32, 256}, 4, 20, false);
  Trajectory def = train(make, {32, 256}, 4, 20, true);
  Trajectory forced = train(make, {32, 256}, 4, 20, true, {.batch_shards = 2});
  EXPECT_EQ(def.stats.shards, 1);
  EXPECT_EQ(forced.stats.shards, 2);
  expect_close(eager, def, 1e-4);
  expect_close(eager, forced, 1e-4);
}

TEST(ShardedStep, BatchShardsOneIsOff) {
  Trajectory compiled = train(mlp, {32, 12}, 4, 5, true, {.batch_shards = 1});
  EXPECT_EQ(compiled.stats.shards, 1);
}

TEST(ShardedStep, ReturnsTheWholeBatchOutput) {
  manual_seed(3);
  auto model = mlp();
  optim::SGD opt(model->parameters(), optim::SGDOptions{.lr = 0.0});  // lr 0: the weights stay put
  auto step = jit::compile_train_step(*model.ptr(), ce, opt);
  Tensor x = randn({40, 12}), y = randint(0, 4, {40});
  std::vector<Tensor> got;
  for (int k = 0; k < 4; ++k) got = step({x, y});
  EXPECT_EQ(step.stats().shards, 2);
  NoGradGuard no_grad;
  Tensor out = model(x);
  EXPECT_LT(max_abs_diff(got[1], out), 1e-6);
  EXPECT_NEAR(got[0].item<double>(), ce(out, y).item<double>(), 1e-6);
}

}  // namespace
}  // namespace nabla::graph
