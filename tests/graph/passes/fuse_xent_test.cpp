// Softmax cross-entropy fusion (fuse_xent.cpp): before/after dumps, bit-identical values against
// the unfused graph, agreement with eager autograd, and the variants it must leave alone.
#include <cmath>

#include "../graph_test_util.h"
#include "graph/compiled_access.h"

namespace nabla::graph {
namespace {

using testing::count_op;
using testing::max_abs_diff;
using testing::run;
using testing::trace_raw;

/// The passes that run before fuse_softmax_xent in jit::compile.
void prepare(Graph& g) { testing::run_cleanup_passes(g); }

/// Traces loss(x @ w, t) and its gradient with respect to w.
Graph trace_loss(const Tensor& w, const Tensor& x, const Tensor& t,
                 const std::function<Tensor(const Tensor&, const Tensor&)>& loss_fn) {
  Graph g = trace_raw(
      [&](const std::vector<Tensor>& in) {
        Tensor loss = loss_fn(matmul(in[0], w), in[1]);
        Tensor gw = autograd::grad({loss}, {w})[0];
        return std::vector<Tensor>{loss, gw};
      },
      {x, t});
  prepare(g);
  return g;
}

Tensor mean_xent(const Tensor& z, const Tensor& t) { return F::cross_entropy(z, t); }

TEST(FuseXent, MeanCrossEntropyForwardAndBackwardBecomeOneNode) {
  manual_seed(3);
  Tensor w = randn({3, 5}).requires_grad_();
  Tensor x = randn({4, 3});
  Tensor t = tensor<int64_t>({1, 4, 0, 2}, {4});
  Graph g = trace_loss(w, x, t, mean_xent);
  testing::check_pass(g, fuse_softmax_xent, {x, t},
                      "graph(%0: float32[N,3], %1: int64[N]) {\n"
                      "  %2 = param : float32[3,5]\n"
                      "  %5 = const -100 : int64[]\n"
                      "  %7 = const 0 : int64[]\n"
                      "  %38 = const 0 : float32[]\n"
                      "  %39 = const 1 : float32[]\n"
                      "  %30 = const : float32[4,5]\n"
                      "  %3 = matmul(%0, %2) : float32[N,5]\n"
                      "  %4 = log_softmax(%3) {i=[0,1]} : float32[N,5]\n"
                      "  %6 = ne(%1, %5) : bool[N]\n"
                      "  %8 = where(%6, %1, %7) : int64[N]\n"
                      "  %9 = unsqueeze(%8) {i=[1]} : int64[N,1]\n"
                      "  %10 = gather(%4, %9) {i=[1]} : float32[N,1]\n"
                      "  %11 = squeeze(%10) {shape=[1]} : float32[N]\n"
                      "  %12 = neg(%11) : float32[N]\n"
                      "  %15 = where(%6, %12, %38) : float32[N]\n"
                      "  %16 = sum(%6) {shape=[0]} : int64[]\n"
                      "  %17 = copy(%16) : float32[]\n"
                      "  %18 = sum(%15) {shape=[0]} : float32[]\n"
                      "  %19 = div(%18, %17) : float32[]\n"
                      "  %22 = div(%39, %17) : float32[]\n"
                      "  %23 = unsqueeze(%22) : float32[1]\n"
                      "  %24 = expand(%23) {shape=[4]} : float32[4]\n"
                      "  %27 = where(%6, %24, %38) : float32[N]\n"
                      "  %28 = neg(%27) : float32[N]\n"
                      "  %29 = view(%28) {shape=[4, 1]} : float32[N,1]\n"
                      "  %31 = scatter_add(%30, %9, %29) {i=[1]} : float32[N,5]\n"
                      "  %32 = sum(%31) {shape=[1] i=[1]} : float32[N,1]\n"
                      "  %33 = exp(%4) : float32[N,5]\n"
                      "  %34 = mul(%33, %32) : float32[N,5]\n"
                      "  %35 = sub(%31, %34) : float32[N,5]\n"
                      "  %36 = permute(%0) {shape=[1, 0]} : float32[3,4]\n"
                      "  %37 = matmul(%36, %35) : float32[3,5]\n"
                      "  return (%19, %37)\n"
                      "}\n",
                      "graph(%0: float32[N,3], %1: int64[N]) {\n"
                      "  %2 = param : float32[3,5]\n"
                      "  %39 = const 1 : float32[]\n"
                      "  %3 = matmul(%0, %2) : float32[N,5]\n"
                      "  %19, %35 = softmax_xent(%3, %1, %39) {i=[-100]} : float32[], float32[N,5]\n"
                      "  %36 = permute(%0) {shape=[1, 0]} : float32[3,4]\n"
                      "  %37 = matmul(%36, %35) : float32[3,5]\n"
                      "  return (%19, %37)\n}\n",
                      0.0);  // the same arithmetic in the same order: bit-identical
  EXPECT_EQ(count_op(g, ops::OpId::softmax_xent), 1);
  EXPECT_EQ(g.nodes.size(), 4u);
}

/// Runs the graph before and after the pass; returns how many nodes were fused and requires the
/// outputs to be bit-identical.
int fuse_and_compare(Graph& g, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> ref = run(g, inputs);
  int fused = fuse_softmax_xent(g);
  g.verify();
  std::vector<Tensor> got = run(g, inputs);
  EXPECT_EQ(got.size(), ref.size());
  for (size_t k = 0; k < ref.size() && k < got.size(); ++k) EXPECT_EQ(max_abs_diff(got[k], ref[k]), 0.0) << k;
  return fused;
}

TEST(FuseXent, IgnoredTargetsAndFloat64StayBitIdentical) {
  manual_seed(4);
  for (DType dt : {kFloat32, kFloat64}) {
    Tensor w = randn({6, 7}).to(dt).requires_grad_();
    Tensor x = (randn({9, 6}) * 3.0).to(dt);
    Tensor t = tensor<int64_t>({1, -100, 6, 0, 2, -100, 3, 3, 5}, {9});
    Graph g = trace_loss(w, x, t, mean_xent);
    EXPECT_EQ(fuse_and_compare(g, {x, t}), 1) << dtype_name(dt);
    // Other targets, other logits, through the same graph (it is not specialised on values).
    Tensor x2 = (randn({9, 6}) * 10.0).to(dt);
    Tensor t2 = tensor<int64_t>({-100, 0, 1, 2, 3, 4, 5, 6, -100}, {9});
    Graph g2 = trace_loss(w, x, t, mean_xent);
    std::vector<Tensor> ref = run(g2, {x2, t2});
    fuse_softmax_xent(g2);
    std::vector<Tensor> got = run(g2, {x2, t2});
    for (size_t k = 0; k < ref.size(); ++k) EXPECT_EQ(max_abs_diff(got[k], ref[k]), 0.0);
  }
}

TEST(FuseXent, BitIdenticalAcrossRowGroupsAndClassCounts) {
  // float32 with <= 16 classes runs 16 rows per vector (the last group partial); 17 classes take
  // the per-row code. Large logits and ignored targets included.
  manual_seed(6);
  for (int64_t classes : {2, 10, 16, 17}) {
    Tensor w = randn({5, classes}).requires_grad_();
    Tensor x = randn({37, 5}) * 8.0;
    Tensor t = randint(0, classes, {37});
    t.data_ptr<int64_t>()[3] = -100;
    t.data_ptr<int64_t>()[20] = -100;
    Graph g = trace_loss(w, x, t, mean_xent);
    EXPECT_EQ(fuse_and_compare(g, {x, t}), 1) << classes << " classes";
  }
}

TEST(FuseXent, CustomIgnoreIndexAndAllIgnored) {
  manual_seed(5);
  Tensor w = randn({4, 5}).requires_grad_();
  Tensor x = randn({6, 4});
  Tensor t = tensor<int64_t>({2, 2, 0, 4, 1, 2}, {6});
  auto loss = [](const Tensor& z, const Tensor& y) { return F::cross_entropy(z, y, {.ignore_index = 2}); };
  Graph g = trace_loss(w, x, t, loss);
  EXPECT_EQ(fuse_and_compare(g, {x, t}), 1);
  ASSERT_EQ(count_op(g, ops::OpId::softmax_xent), 1);
  // Every target ignored: 0/0 loss (NaN, as in PyTorch) and a zero gradient, as unfused.
  Tensor all = full({6}, 2, TensorOptions(kInt64));
  std::vector<Tensor> out = run(g, {x, all});
  EXPECT_TRUE(std::isnan(out[0].item<float>()));
  EXPECT_EQ(out[1].abs().max().item<float>(), 0.0f);
}

TEST(FuseXent, MatchesEagerAutograd) {
  manual_seed(6);
  for (DType dt : {kFloat32, kFloat64}) {
    Tensor w = (randn({8, 10}) * 0.5).to(dt).requires_grad_();
    Tensor x = randn({32, 8}).to(dt);
    Tensor t = randint(0, 10, {32});
    Graph g = trace_loss(w, x, t, mean_xent);
    ASSERT_EQ(fuse_softmax_xent(g), 1);
    std::vector<Tensor> got = run(g, {x, t});
    w.impl()->grad.reset();
    Tensor loss = F::cross_entropy(matmul(x, w), t);
    loss.backward();
    const double tol = dt == kFloat32 ? 1e-6 : 1e-12;
    EXPECT_LE(max_abs_diff(got[0], loss.detach()), tol);
    EXPECT_LE(max_abs_diff(got[1], w.grad()), tol);
  }
}

TEST(FuseXent, OtherVariantsAreLeftAlone) {
  manual_seed(7);
  Tensor w = randn({3, 4}).requires_grad_();
  Tensor x = randn({5, 3});
  Tensor t = tensor<int64_t>({0, 1, 2, 3, 0}, {5});
  Tensor cw = rand({4}) + 0.5;
  std::vector<std::function<Tensor(const Tensor&, const Tensor&)>> variants = {
      [](const Tensor& z, const Tensor& y) { return F::cross_entropy(z, y, {.reduction = "sum"}); },
      [](const Tensor& z, const Tensor& y) { return F::cross_entropy(z, y, {.reduction = "none"}).sum(); },
      [](const Tensor& z, const Tensor& y) { return F::cross_entropy(z, y, {.label_smoothing = 0.1}); },
      [&](const Tensor& z, const Tensor& y) { return F::cross_entropy(z, y, {.weight = cw}); },
      // The loss's gradient depends on the loss itself: no single node can compute both.
      [](const Tensor& z, const Tensor& y) {
        Tensor l = F::cross_entropy(z, y);
        return l * l;
      },
  };
  for (size_t k = 0; k < variants.size(); ++k) {
    Graph g = trace_loss(w, x, t, variants[k]);
    EXPECT_EQ(fuse_and_compare(g, {x, t}), 0) << "variant " << k;
  }
  // The log-probabilities are also an output: they must stay.
  Graph g = trace_raw(
      [&](const std::vector<Tensor>& in) {
        Tensor z = matmul(in[0], w);
        Tensor loss = F::cross_entropy(z, in[1]);
        return std::vector<Tensor>{loss, autograd::grad({loss}, {w})[0], log_softmax(z, 1)};
      },
      {x, t});
  prepare(g);
  EXPECT_EQ(fuse_and_compare(g, {x, t}), 0);
}

TEST(FuseXent, BadTargetAtRunTimeIsAnError) {
  Tensor w = randn({3, 4}).requires_grad_();
  Tensor x = randn({2, 3});
  Graph g = trace_loss(w, x, tensor<int64_t>({0, 1}, {2}), mean_xent);
  ASSERT_EQ(fuse_softmax_xent(g), 1);
  try {
    run(g, {x, tensor<int64_t>({0, 4}, {2})});
    FAIL() << "expected nabla::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("softmax_xent: target 4 is out of bounds for 4 classes"),
              std::string::npos)
        << e.what();
  }
}

TEST(FuseXent, CompiledTrainStepUsesIt) {
  manual_seed(8);
  nn::Sequential model{nn::Linear(6, 8), nn::ReLU(), nn::Linear(8, 4)};
  optim::SGD opt(model->parameters(), {.lr = 0.1});
  auto step =
      jit::compile_train_step(*model, [](const Tensor& o, const Tensor& y) { return F::cross_entropy(o, y); },
                              opt, {.batch_shards = 1});
  Tensor x = randn({10, 6}), y = randint(0, 4, {10});
  for (int k = 0; k < 3; ++k) step(x, y);
  const Graph& g = jit::detail::optimized_graph(*step.last_graph());
  EXPECT_EQ(count_op(g, ops::OpId::softmax_xent), 1);
  EXPECT_EQ(count_op(g, ops::OpId::log_softmax), 0);
  EXPECT_EQ(count_op(g, ops::OpId::scatter_add), 0);
}
}  // namespace
}  // namespace nabla::graph
