// In-place reuse on small graphs (before/after dumps).
#include "../graph_test_util.h"

namespace nabla::graph {
namespace {

TEST(InPlace, ElementwiseChainReusesOneBuffer) {
  Tensor x = randn({2, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor a = in[0].exp();
        Tensor b = a * in[0];
        return std::vector<Tensor>{(b + 1.0).sum()};
      },
      {x});
  testing::check_pass(g, plan_inplace, {x},
                      "graph(%0: float32[N,3]) {\n"
                      "  %3 = const 1 : float32[]\n"
                      "  %1 = exp(%0) : float32[N,3]\n"
                      "  %2 = mul(%1, %0) : float32[N,3]\n"
                      "  %4 = add(%2, %3) : float32[N,3]\n"
                      "  %5 = sum(%4) {shape=[0, 1]} : float32[]\n"
                      "  return (%5)\n}\n",
                      "graph(%0: float32[N,3]) {\n"
                      "  %3 = const 1 : float32[]\n"
                      "  %1 = exp(%0) : float32[N,3]\n"
                      "  %2 = mul(%1, %0) inplace(%2->%1) : float32[N,3]\n"
                      "  %4 = add(%2, %3) inplace(%4->%2) : float32[N,3]\n"
                      "  %5 = sum(%4) {shape=[0, 1]} : float32[]\n"
                      "  return (%5)\n}\n");
  // One buffer for exp/mul/add: the arena holds it plus the scalar sum.
  MemoryPlan plan = plan_memory(g);
  EXPECT_EQ(plan.root[g.nodes[2].outputs[0]], g.nodes[0].outputs[0]);
  EXPECT_EQ(plan.arena_bytes, 64 + 64);
}

TEST(InPlace, NeverIntoInputsLiveValuesOrTransposedReads) {
  Tensor x = randn({3, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor a = in[0].exp();
        Tensor b = a + a.t();    // reads a transposed while writing: no in-place
        Tensor c = in[0] * 2.0;  // input: never overwritten
        Tensor d = a.exp();      // a already dead? no: used by b before; d reads a after b -> a live
        return std::vector<Tensor>{b, c, d};
      },
      {x});
  std::vector<Tensor> ref = testing::run(g, {x});
  plan_inplace(g);
  for (const auto& n : g.nodes)
    if (n.op == ops::OpId::add || n.op == ops::OpId::mul) {
      for (int i : n.inplace) EXPECT_EQ(i, -1) << g.dump();
    }
  std::vector<Tensor> got = testing::run(g, {x});
  for (size_t k = 0; k < ref.size(); ++k) EXPECT_EQ(testing::max_abs_diff(got[k], ref[k]), 0.0);
}

}  // namespace
}  // namespace nabla::graph
