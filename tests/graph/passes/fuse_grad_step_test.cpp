// Weight-gradient + Adam fusion (fuse_grad_step.cpp): before/after dumps, bit-identical updates
// against the unfused graph (several tiles, AdamW, amsgrad, float64), the cases it must leave
// alone, and whole compiled training steps.
#include "../graph_test_util.h"
#include "graph/compiled_access.h"

namespace nabla::graph {
namespace {

using testing::count_op;
using testing::max_abs_diff;
using testing::run;

/// The passes that run before fuse_weight_grad_updates in jit::compile.
void prepare(Graph& g) { testing::run_cleanup_passes(g); }

/// Traces one training step of `fc` (loss: sum(tanh(fc(x)))) after a first eager step (which
/// creates the optimizer state).
Graph trace_step(nn::Linear& fc, optim::Optimizer& opt, const Tensor& x, bool read_grad = false) {
  auto step = [&](const std::vector<Tensor>& in) {
    opt.zero_grad();
    Tensor loss = fc(in[0]).tanh().sum();
    loss.backward();
    std::vector<Tensor> out{loss.detach()};
    if (read_grad) out.push_back(fc->weight.grad().abs().sum());  // dW read by someone else
    opt.step();
    return out;
  };
  step({x});
  Graph g = testing::trace_raw(step, {x});
  prepare(g);
  return g;
}

/// Runs g before and after `pass` from the same parameter and optimizer state; requires the new
/// state to be bit-identical. Returns what the pass returned.
template <typename Pass>
int run_both_ways(Graph& g, Pass pass, const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  std::vector<Tensor> state, saved, unfused;
  for (const Value& v : g.values)
    if (v.kind == ValueKind::kParam) state.push_back(v.tensor);
  for (const Tensor& t : state) saved.push_back(t.clone());
  std::vector<Tensor> out_ref = run(g, inputs);
  for (size_t k = 0; k < state.size(); ++k) {
    unfused.push_back(state[k].clone());
    state[k].copy_(saved[k]);
  }
  int n = pass(g);
  g.verify();
  std::vector<Tensor> out = run(g, inputs);
  for (size_t k = 0; k < state.size(); ++k)
    EXPECT_EQ(max_abs_diff(state[k], unfused[k]), 0.0) << "state " << k;
  for (size_t k = 0; k < out.size(); ++k) EXPECT_EQ(max_abs_diff(out[k], out_ref[k]), 0.0) << "output " << k;
  return n;
}

TEST(FuseGradStep, WeightGradientMatmulJoinsTheAdamUpdate) {
  manual_seed(11);
  nn::Linear fc(3, 2);
  optim::Adam opt(fc->parameters(), {.lr = 0.1});
  Tensor x = randn({4, 3});
  Graph g = trace_step(fc, opt, x);
  const char* kHead =
      "graph(%0: float32[N,3]) {\n"
      "  %1 = param : float32[2,3]\n"
      "  %2 = param : float32[2]\n"
      "  %12 = const 1 : float32[]\n"
      "  %20 = param : float32[2,3]\n"
      "  %21 = param : float32[2,3]\n"
      "  %22 = const : float32[0]\n"
      "  %23 = param : float64[6]\n"
      "  %28 = param : float32[2]\n"
      "  %29 = param : float32[2]\n"
      "  %30 = const : float32[0]\n"
      "  %31 = param : float64[6]\n"
      "  %3 = linear(%0, %1, %2) : float32[N,2]\n"
      "  %4 = tanh(%3) : float32[N,2]\n"
      "  %5 = sum(%4) {shape=[0, 1]} : float32[]\n"
      "  %11 = mul(%4, %4) : float32[N,2]\n"
      "  %13 = sub(%12, %11) : float32[N,2]\n";
  const char* kTail =
      "  %32, %33, %34, %35 = adam_step(%2, %17, %28, %29, %30, %31) : float32[2], float32[2], float32[2], "
      "float32[0]\n"
      "  update %1 <- %24\n"
      "  update %20 <- %25\n"
      "  update %21 <- %26\n"
      "  update %2 <- %32\n"
      "  update %28 <- %33\n"
      "  update %29 <- %34\n"
      "  return (%5)\n}\n";
  EXPECT_EQ(g.dump(), std::string(kHead) +
                          "  %15 = permute(%13) {shape=[1, 0]} : float32[2,4]\n"
                          "  %16 = matmul(%15, %0) : float32[2,3]\n"
                          "  %17 = sum(%13) {shape=[0]} : float32[2]\n"
                          "  %24, %25, %26, %27 = adam_step(%1, %16, %20, %21, %22, %23) : float32[2,3], "
                          "float32[2,3], float32[2,3], float32[0]\n" +
                          kTail);
  EXPECT_EQ(run_both_ways(g, fuse_weight_grad_updates, {x}), 1);
  EXPECT_EQ(g.dump(), std::string(kHead) +
                          "  %17 = sum(%13) {shape=[0]} : float32[2]\n"
                          "  %24, %25, %26, %27 = weight_grad_adam_step(%13, %0, %1, %20, %21, %22, %23) : "
                          "float32[2,3], float32[2,3], float32[2,3], float32[0]\n" +
                          kTail);
}

TEST(FuseGradStep, BitIdenticalAcrossTilesAndAdamVariants) {
  struct Case {
    int64_t in, out, batch;
    int kind;  // 0 Adam, 1 Adam + L2 + amsgrad, 2 AdamW, 3 Adam + amsgrad
    DType dtype;
  };
  const std::vector<Case> cases = {
      {784, 64, 32, 0, kFloat32},  // the seed MLP's first layer: 3 column tiles
      {64, 640, 48, 1, kFloat32},  // row tiles
      {300, 40, 16, 2, kFloat32},
      {100, 30, 8, 3, kFloat64},
  };
  for (size_t c = 0; c < cases.size(); ++c) {
    manual_seed(20 + c);
    nn::Linear fc(cases[c].in, cases[c].out);
    fc->to(cases[c].dtype);
    std::unique_ptr<optim::Optimizer> opt;
    if (cases[c].kind == 0)
      opt = std::make_unique<optim::Adam>(fc->parameters(), optim::AdamOptions{.lr = 1e-3});
    if (cases[c].kind == 1)
      opt = std::make_unique<optim::Adam>(
          fc->parameters(), optim::AdamOptions{.lr = 1e-2, .weight_decay = 0.1, .amsgrad = true});
    if (cases[c].kind == 2)
      opt = std::make_unique<optim::AdamW>(fc->parameters(),
                                           optim::AdamWOptions{.lr = 1e-2, .weight_decay = 0.05});
    if (cases[c].kind == 3)
      opt = std::make_unique<optim::Adam>(fc->parameters(), optim::AdamOptions{.lr = 1e-2, .amsgrad = true});
    Tensor x = randn({cases[c].batch, cases[c].in}).to(cases[c].dtype);
    Graph g = trace_step(fc, *opt, x);
    EXPECT_EQ(run_both_ways(g, fuse_weight_grad_updates, {x}), 1) << "case " << c;
  }
}

TEST(FuseGradStep, LeftAloneWhenTheGradientIsReadElsewhere) {
  manual_seed(12);
  nn::Linear fc(5, 4);
  optim::Adam opt(fc->parameters(), {.lr = 0.1});
  Tensor x = randn({6, 5});
  Graph g = trace_step(fc, opt, x, /*read_grad=*/true);
  EXPECT_EQ(fuse_weight_grad_updates(g), 0);
  optim::SGD sgd(fc->parameters(), {.lr = 0.1, .momentum = 0.9});  // only Adam is fused
  Graph g2 = trace_step(fc, sgd, x);
  EXPECT_EQ(fuse_weight_grad_updates(g2), 0);
}

TEST(FuseGradStep, CompiledMlpStepUsesItAndFollowsEager) {
  auto make = [] { return nn::Sequential{nn::Linear(20, 16), nn::ReLU(), nn::Linear(16, 5)}; };
  manual_seed(13);
  nn::Sequential a = make();
  manual_seed(13);
  nn::Sequential b = make();
  optim::Adam oa(a->parameters(), {.lr = 1e-2}), ob(b->parameters(), {.lr = 1e-2});
  auto loss_of = [](const Tensor& o, const Tensor& y) { return F::cross_entropy(o, y); };
  auto step = jit::compile_train_step(*b, loss_of, ob, {.batch_shards = 1});
  manual_seed(14);
  double worst = 0;
  for (int k = 0; k < 30; ++k) {
    Tensor x = randn({8, 20}), y = randint(0, 5, {8});
    oa.zero_grad();
    Tensor le = loss_of(a->forward(x), y);
    le.backward();
    oa.step();
    Tensor lc = step(x, y);
    worst = std::max(worst, std::abs(le.item<double>() - lc.item<double>()));
  }
  EXPECT_LT(worst, 1e-5);
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t k = 0; k < pa.size(); ++k) EXPECT_LT(max_abs_diff(pa[k], pb[k]), 1e-5);
  const Graph& g = jit::detail::optimized_graph(*step.last_graph());
  EXPECT_EQ(count_op(g, ops::OpId::weight_grad_adam_step), 2);
  EXPECT_EQ(count_op(g, ops::OpId::matmul), 1);  // only the hidden layer's input gradient is left
  // The fused nodes declare their scratch (a GEMM tile, the per-row losses), so it is planned into
  // the arena: a step asks the allocator only for its returned outputs, as without the fusions.
  for (const Node& n : g.nodes)
    if (n.op == ops::OpId::weight_grad_adam_step || n.op == ops::OpId::softmax_xent)
      EXPECT_GT(n.workspace, 0);
  Tensor x = randn({8, 20}), y = randint(0, 5, {8});
  step(x, y);
  reset_memory_stats();
  step(x, y);
  const uint64_t fused_requests = memory_stats().requests;
  auto plain = jit::compile_train_step(*a, loss_of, oa, {.optimize = false, .batch_shards = 1});
  for (int k = 0; k < 3; ++k) plain(x, y);
  reset_memory_stats();
  plain(x, y);
  EXPECT_LE(fused_requests, 2u);  // the loss and the output, copied out of the arena
  EXPECT_EQ(fused_requests, memory_stats().requests);
}

}  // namespace
}  // namespace nabla::graph
