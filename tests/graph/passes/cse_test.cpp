// Common-subexpression elimination on a small graph (before/after dumps).
#include "../graph_test_util.h"

namespace nabla::graph {
namespace {

TEST(CommonSubexpressionElimination, MergesEqualNodesAndScalars) {
  Tensor x = randn({2, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{in[0].tanh() * 3.0 + in[0].tanh() * 3.0};
      },
      {x});
  testing::check_pass(g, eliminate_common_subexpressions, {x},
                      "graph(%0: float32[N,3]) {\n"
                      "  %2 = const 3 : float32[]\n"
                      "  %5 = const 3 : float32[]\n"
                      "  %1 = tanh(%0) : float32[N,3]\n"
                      "  %3 = mul(%1, %2) : float32[N,3]\n"
                      "  %4 = tanh(%0) : float32[N,3]\n"
                      "  %6 = mul(%4, %5) : float32[N,3]\n"
                      "  %7 = add(%6, %3) : float32[N,3]\n"
                      "  return (%7)\n}\n",
                      "graph(%0: float32[N,3]) {\n"
                      "  %2 = const 3 : float32[]\n"
                      "  %1 = tanh(%0) : float32[N,3]\n"
                      "  %3 = mul(%1, %2) : float32[N,3]\n"
                      "  %7 = add(%3, %3) : float32[N,3]\n"
                      "  return (%7)\n}\n");
}

TEST(CommonSubexpressionElimination, DifferentAttrsAreNotMerged) {
  Tensor x = randn({2, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{in[0].sum({0}), in[0].sum({1})};
      },
      {x});
  EXPECT_EQ(eliminate_common_subexpressions(g), 0);
  EXPECT_EQ(g.nodes.size(), 2u);
}

}  // namespace
}  // namespace nabla::graph
