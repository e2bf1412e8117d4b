// Elementwise loop fusion: chains become one fused_elementwise node (before/after dumps), the fused
// loop computes what the ops compute one by one (bit for bit where the ops' kernels share its
// vector code), groups respect other uses, shapes and the program limits, a malformed program
// (as from a hand-edited bundle) is refused by name, and compiled training steps and bundles of a
// model with SiLU (x * sigmoid(x), fused forward and backward) match eager mode.
#include "../../support/expect_error.h"
#include "../graph_test_util.h"
#include "data/temp_dir.h"
#include "graph/compiled_access.h"
#include "nabla/deploy.h"
#include "nabla/jit.h"
#include "ops/elementwise/fused.h"

namespace nabla::graph {
namespace {

using testing::count_op;
using testing::max_abs_diff;
constexpr ops::OpId kFused = ops::OpId::fused_elementwise;

TEST(ElementwiseFusion, ChainBecomesOneNode) {
  Tensor x = randn({2, 3}), y = randn({2, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{(in[0] * in[1] + 1.0).sigmoid() * in[0]};
      },
      {x, y});
  testing::check_pass(g, fuse_elementwise_chains, {x, y},
                      "graph(%0: float32[N,3], %1: float32[N,3]) {\n"
                      "  %3 = const 1 : float32[]\n"
                      "  %2 = mul(%0, %1) : float32[N,3]\n"
                      "  %4 = add(%2, %3) : float32[N,3]\n"
                      "  %5 = sigmoid(%4) : float32[N,3]\n"
                      "  %6 = mul(%5, %0) : float32[N,3]\n"
                      "  return (%6)\n}\n",
                      "graph(%0: float32[N,3], %1: float32[N,3]) {\n"
                      "  %3 = const 1 : float32[]\n"
                      "  %6 = fused_elementwise(%0, %1, %3) {$0 = mul(#0, #1); $1 = add($0, #2); $2 = "
                      "sigmoid($1); $3 = mul($2, #0)} : float32[N,3]\n"
                      "  return (%6)\n}\n",
                      0.0);  // the ops' own vector code: bit-identical
}

// Every supported op, over a size with several tiles, threads' ranges and an odd tail: the fused
// loop equals the unfused graph bit for bit (alpha forms within rounding of a contracted a+p*b).
TEST(ElementwiseFusion, EveryOpMatchesTheUnfusedKernels) {
  manual_seed(3);
  Tensor x = randn({3, 40001}), y = rand({3, 40001}) + 0.5;
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor& a = in[0];
    const Tensor& b = in[1];
    Tensor t = (a * b).sigmoid();             // mul, sigmoid
    t = t.log() + t.sqrt() - a.tanh();        // log, sqrt, add, tanh, sub
    t = nabla::sub(t, b, 0.5) / b;            // sub with alpha, div
    t = nabla::add(t.exp(), b.rsqrt(), 2.0);  // exp, rsqrt, add with alpha
    Tensor u = -F::relu(a) + F::leaky_relu(a, 0.2) + F::elu(a, 0.7);
    Tensor v = F::gelu(a) * F::gelu(a, "tanh") + nabla::erf(a);
    return std::vector<Tensor>{t, u, v};
  };
  Graph g = testing::trace_raw(fn, {x, y});
  std::vector<Tensor> ref = testing::run(g, {x, y});
  EXPECT_EQ(count_op(g, kFused), 0);
  // sigmoid(a*b) is read twice (log and sqrt), so it ends its own loop: 4 loops, 3 outputs.
  EXPECT_EQ(fuse_elementwise_chains(g), 4) << g.dump();
  g.verify();
  EXPECT_EQ(count_op(g, kFused), 4);
  EXPECT_EQ(g.nodes.size(), 4u);
  std::vector<Tensor> got = testing::run(g, {x, y});
  EXPECT_LE(max_abs_diff(got[0], ref[0]), 1e-5 * ref[0].abs().max().item<double>());
  EXPECT_EQ(max_abs_diff(got[1], ref[1]), 0.0);
  EXPECT_EQ(max_abs_diff(got[2], ref[2]), 0.0);
}

TEST(ElementwiseFusion, IntermediateUsedElsewhereStaysOutside) {
  Tensor x = randn({4, 5});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor h = in[0].exp().neg();  // h is an output too: the chain stops at h
        return std::vector<Tensor>{(h * 2.0).tanh(), h};
      },
      {x});
  std::vector<Tensor> ref = testing::run(g, {x});
  EXPECT_EQ(fuse_elementwise_chains(g), 2);  // {exp, neg} and {mul, tanh}
  EXPECT_EQ(count_op(g, kFused), 2);
  std::vector<Tensor> got = testing::run(g, {x});
  EXPECT_EQ(max_abs_diff(got[0], ref[0]), 0.0);
  EXPECT_EQ(max_abs_diff(got[1], ref[1]), 0.0);
}

TEST(ElementwiseFusion, BroadcastOtherThanScalarsIsNotFused) {
  Tensor x = randn({4, 5}), col = randn({4, 1});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{(in[0] * in[1]).exp()}; }, {x, col});
  EXPECT_EQ(fuse_elementwise_chains(g), 0);  // [4,1] is neither the output shape nor one element
  Graph h = testing::trace_raw(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].to(kFloat64).exp().neg()}; }, {x});
  EXPECT_EQ(fuse_elementwise_chains(h), 0);  // float64
}

TEST(ElementwiseFusion, LongChainsSplitAtTheProgramLimit) {
  Tensor x = randn({64});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor t = in[0];
        for (int k = 0; k < 20; ++k) t = (t * 0.9).tanh();  // 40 ops
        return std::vector<Tensor>{t};
      },
      {x});
  std::vector<Tensor> ref = testing::run(g, {x});
  EXPECT_EQ(fuse_elementwise_chains(g), 3);  // 15 + 15 + 10 instructions
  EXPECT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(max_abs_diff(testing::run(g, {x})[0], ref[0]), 0.0);
}

// A bundle is untrusted: a program naming a missing op, an op a fused loop can't run, a register
// not yet defined, or no instructions at all is refused with a message saying which.
TEST(ElementwiseFusion, MalformedProgramsAreRefused) {
  ops::fused::Instruction prog[ops::fused::kMaxInstructions];
  ops::Attrs a = ops::fused::encode({{ops::OpId::mul, 0, 1, 0.0f}, {ops::OpId::exp, 2, 0, 0.0f}});
  EXPECT_EQ(ops::fused::decode(a, 2, prog), 2);
  ops::Attrs empty;
  EXPECT_ERROR_HAS(ops::fused::decode(empty, 2, prog), "1 to 15 instructions");
  ops::Attrs forward = ops::fused::encode({{ops::OpId::mul, 0, 3, 0.0f}, {ops::OpId::exp, 2, 0, 0.0f}});
  EXPECT_ERROR_HAS(ops::fused::decode(forward, 2, prog), "reads register 3, but only 2 are defined");
  ops::Attrs matmul = ops::fused::encode({{ops::OpId::matmul, 0, 1, 0.0f}});
  EXPECT_ERROR_HAS(ops::fused::decode(matmul, 2, prog), "matmul, which a fused loop cannot run");
  ops::Attrs bogus = a;
  bogus.i[1] = 0xFFFF;
  EXPECT_ERROR_HAS(ops::fused::decode(bogus, 2, prog), "names op id 65535, which does not exist");
  EXPECT_ERROR_HAS(ops::fused::decode(a, 9, prog), "expected 1 to 8 inputs, got 9");
  // Through dispatch (what the bundle loader's shape check runs): a bad input shape is named.
  Tensor out;
  Tensor in[2] = {randn({4, 5}), randn({4, 1})};
  EXPECT_ERROR_HAS(ops::dispatch(kFused, in, 2, a, &out), "input 1 has shape [4, 1]");
}

struct SiluNet : nn::Module {
  nn::Linear fc1{6, 16}, fc2{16, 3};
  SiluNet() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  Tensor forward(Tensor x) override { return fc2(F::silu(fc1(x))); }
};

// SiLU's gradient (six elementwise ops joining two branches) becomes one loop in a compiled
// training step; 30 steps follow the eager trajectory. (The forward's sigmoid and product stay
// separate nodes: backward reads both.)
TEST(ElementwiseFusion, CompiledTrainingStepWithSiluFollowsEager) {
  manual_seed(11);
  SiluNet a, b;
  b.load_state_dict(a.state_dict());
  optim::Adam opt_a(a.parameters(), {.lr = 1e-2}), opt_b(b.parameters(), {.lr = 1e-2});
  auto loss_fn = [](const Tensor& out, const Tensor& y) { return F::cross_entropy(out, y); };
  auto step = jit::compile_train_step(b, loss_fn, opt_b);
  for (int k = 0; k < 30; ++k) {
    Tensor x = randn({8, 6}), y = randint(0, 3, {8});
    opt_a.zero_grad();
    Tensor loss = loss_fn(a(x), y);
    loss.backward();
    opt_a.step();
    EXPECT_NEAR(step(x, y).item<double>(), loss.item<double>(), 1e-5) << "step " << k;
  }
  const Graph& g = jit::detail::optimized_graph(*step.last_graph());
  int longest = 0;
  for (const auto& n : g.nodes)
    if (n.op == kFused) longest = std::max<int>(longest, static_cast<int>(n.attrs.i[0]));
  EXPECT_GE(longest, 6) << g.dump();
  auto pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_LT(max_abs_diff(pa[i], pb[i]), 1e-5);
}

// A bundle keeps the fused node (by op name + program attributes) and runs it at other batch sizes.
TEST(ElementwiseFusion, BundleWithFusedNodeRoundTrips) {
  manual_seed(12);
  SiluNet net;
  net.eval();
  data_test::TempDir dir;
  const std::string path = dir / "silu";
  export_model(net, {randn({4, 6})}, path);
  LoadedModel m = load_model(path);
  int fused_nodes = 0;
  for (const auto& [op, n] : m.op_counts()) fused_nodes += op == "fused_elementwise" ? n : 0;
  EXPECT_EQ(fused_nodes, 1) << m.dump();
  for (int64_t batch : {1, 7}) {
    Tensor x = randn({batch, 6});
    Tensor want;
    {
      NoGradGuard no_grad;
      want = net.forward(x);
    }
    EXPECT_EQ(max_abs_diff(m(x), want), 0.0) << "batch " << batch;
  }
}

}  // namespace
}  // namespace nabla::graph
