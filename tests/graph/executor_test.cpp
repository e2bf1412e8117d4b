// Executor: compiled == eager within 1e-6 for an MLP, a CNN and a model with BatchNorm + Dropout
// in eval mode; a compiled step allocates nothing for its intermediates.
#include "graph/executor.h"

#include "backend/cpu/team.h"
#include "graph_test_util.h"

namespace nabla::graph {
namespace {

using testing::max_abs_diff;

nn::Sequential mlp() {
  return nn::Sequential{nn::Linear(20, 32), nn::ReLU(), nn::Linear(32, 32), nn::Tanh(), nn::Linear(32, 5)};
}

nn::Sequential cnn() {
  return nn::Sequential{nn::Conv2d({.in = 1, .out = 4, .kernel = 3, .padding = 1}),
                        nn::ReLU(),
                        nn::MaxPool2d(2),
                        nn::Conv2d({.in = 4, .out = 8, .kernel = 3, .padding = 1}),
                        nn::ReLU(),
                        nn::MaxPool2d(2),
                        nn::Flatten(),
                        nn::Linear(8 * 3 * 3, 10)};
}

nn::Sequential bn_dropout() {
  return nn::Sequential{nn::Conv2d({.in = 3, .out = 6, .kernel = 3}),
                        nn::BatchNorm2d(6),
                        nn::ReLU(),
                        nn::Flatten(),
                        nn::Dropout(0.3),
                        nn::Linear(6 * 6 * 6, 16),
                        nn::BatchNorm1d(16),
                        nn::Sigmoid(),
                        nn::Linear(16, 3)};
}

/// Compiled (second call: the graph) vs eager, on several batches.
void expect_equivalent(nn::Sequential model, const Shape& in_shape) {
  auto f = jit::compile(model);
  for (int k = 0; k < 3; ++k) {
    Tensor x = randn(in_shape);
    Tensor eager;
    {
      NoGradGuard ng;
      eager = model(x);
    }
    Tensor first = f(x);  // k == 0: traced (eager run); afterwards: the graph
    Tensor compiled = f(x);
    EXPECT_LT(max_abs_diff(first, eager), 1e-6);
    EXPECT_LT(max_abs_diff(compiled, eager), 1e-6);
  }
  EXPECT_EQ(f.stats().traces, 1);
  EXPECT_EQ(f.stats().graph_runs, 5);
}

TEST(Executor, MlpCompiledEqualsEager) {
  manual_seed(1);
  expect_equivalent(mlp(), {8, 20});
}

TEST(Executor, CnnCompiledEqualsEager) {
  manual_seed(2);
  expect_equivalent(cnn(), {4, 1, 12, 12});
}

TEST(Executor, BatchNormDropoutEvalCompiledEqualsEager) {
  manual_seed(3);
  auto model = bn_dropout();
  {
    // Non-trivial running statistics: a few eager training-mode passes.
    NoGradGuard ng;
    for (int k = 0; k < 3; ++k) model(randn({5, 3, 8, 8}) * 2.0 + 1.0);
  }
  model->eval();
  expect_equivalent(model, {5, 3, 8, 8});
}

TEST(Executor, NoAllocationPerStep) {
  manual_seed(4);
  auto model = cnn();
  jit::Graph g = jit::trace(*model.ptr(), randn({4, 1, 12, 12}));
  Tensor x = randn({4, 1, 12, 12});
  g({x});  // warm: nothing else to allocate afterwards
  auto before = memory_stats();
  for (int k = 0; k < 5; ++k) g({x});
  auto after = memory_stats();
  EXPECT_EQ(after.system_allocs, before.system_allocs);
  // Per run: only the returned output (copied out of the arena). No intermediate value is
  // allocated, and the convolutions' kernel scratch (im2col, the direct kernels' padded copies)
  // comes from workspace blocks planned into the arena. Eager makes one request per op result.
  const uint64_t graph_requests = after.requests - before.requests;
  EXPECT_EQ(graph_requests, 5u);
  auto e0 = memory_stats();
  {
    NoGradGuard ng;
    for (int k = 0; k < 5; ++k) model(x);
  }
  auto e1 = memory_stats();
  EXPECT_GE(e1.requests - e0.requests, 5u * 10);  // eager: one request per op result
  // Eager results per run: conv2d, relu_max_pool2d (values, indices; Sequential fuses ReLU +
  // MaxPool2d), twice, and linear = 7, against the graph's one copied-out output.
  EXPECT_GE(e1.requests - e0.requests, graph_requests + 5u * 6);
  EXPECT_GT(g.arena_bytes(), 0);
  EXPECT_LT(g.arena_bytes(), g.unplanned_bytes());
}

TEST(Executor, RunsKernelsFromTheIrNotTheTrace) {
  // Changing a node's attributes changes what runs: the executor reads the IR.
  Tensor x = randn({3, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].sum({0})}; }, {x});
  ASSERT_EQ(g.nodes.size(), 1u);
  g.nodes[0].attrs.shape = Shape({1});
  Tensor r = testing::run(g, {x})[0];
  EXPECT_LT(max_abs_diff(r, x.sum({1})), 1e-6);
}

// The seed MLP (784-64-64-10, batch 32, Adam) trained compiled for 20 steps at 1 and at 2 threads.
// At 2 threads the executor runs each step with one team (backend/cpu/team.h) whose threads split
// fc1's forward GEMM, its weight-gradient GEMM and its Adam update by rows; the parameters must
// come out bit-identical, whatever the thread count.
std::vector<std::vector<float>> train_seed_mlp(int threads, int shards, int64_t* team_jobs) {
  const int saved = get_num_threads();
  set_num_threads(threads);
  manual_seed(11);
  nn::Sequential model{nn::Linear(784, 64), nn::ReLU(), nn::Linear(64, 64), nn::ReLU(), nn::Linear(64, 10)};
  optim::Adam opt(model->parameters(), {.lr = 1e-3});
  auto step = jit::compile_train_step(*model.ptr(),
                                      [](const Tensor& o, const Tensor& y) { return F::cross_entropy(o, y); },
                                      opt, {.batch_shards = shards});
  Generator g(12);
  const int64_t jobs0 = cpu::team_jobs_total();
  for (int k = 0; k < 20; ++k) step(rand({32, 784}, kFloat32, &g), randint(0, 10, {32}, kInt64, &g));
  *team_jobs = cpu::team_jobs_total() - jobs0;
  set_num_threads(saved);
  std::vector<std::vector<float>> params;
  for (const Tensor& p : model->parameters()) params.push_back(p.to_vector<float>());
  return params;
}

TEST(Executor, CompiledTrainingIsBitIdenticalAtOneAndTwoThreads) {
  int64_t jobs1 = 0, jobs2 = 0, jobs_auto = 0;
  auto one = train_seed_mlp(1, 1, &jobs1);
  auto two = train_seed_mlp(2, 1, &jobs2);
  auto two_auto = train_seed_mlp(2, 0, &jobs_auto);  // the default picks the whole-batch graph here
  EXPECT_EQ(jobs1, 0);
  // Per graph run: fc1's forward GEMM and its weight gradient fused with the Adam update
  // (weight_grad_adam_step, one job over the row tiles) are split.
  EXPECT_GE(jobs2, 2 * 18);
  EXPECT_GE(jobs_auto, 2 * 18);
  ASSERT_EQ(one.size(), 6u);
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i], two[i]) << "parameter " << i;
    EXPECT_EQ(one[i], two_auto[i]) << "parameter " << i;
  }
}

}  // namespace
}  // namespace nabla::graph
