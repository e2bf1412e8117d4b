// Constant folding on a small graph (before/after dumps).
#include <cmath>

#include "../graph_test_util.h"

namespace nabla::graph {
namespace {

TEST(ConstantFolding, RunsConstantSubgraphsOnce) {
  Tensor x = randn({2, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor c = full({3}, 2.0).exp().sqrt();  // depends on no input
        return std::vector<Tensor>{in[0] * c};
      },
      {x});
  testing::check_pass(g, fold_constants, {x},
                      "graph(%0: float32[N,3]) {\n"
                      "  %1 = const : float32[3]\n"
                      "  %2 = fill(%1) {f=[2,0]} : float32[3]\n"
                      "  %3 = exp(%2) : float32[3]\n"
                      "  %4 = sqrt(%3) : float32[3]\n"
                      "  %5 = mul(%0, %4) : float32[N,3]\n"
                      "  return (%5)\n}\n",
                      "graph(%0: float32[N,3]) {\n"
                      "  %8 = const : float32[3]\n"
                      "  %5 = mul(%0, %8) : float32[N,3]\n"
                      "  return (%5)\n}\n");
  // The folded constant holds exp(2)^0.5.
  const Value& c = g.values[g.nodes[0].inputs[1]];
  EXPECT_NEAR(c.tensor.to_vector<float>()[1], std::sqrt(std::exp(2.0)), 1e-5);
}

TEST(ConstantFolding, LeavesParamsAlone) {
  Tensor w = randn({3});  // captured and still held here: a parameter, not a constant
  Tensor x = randn({3});
  Graph g = testing::trace_raw(
      [w](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + w.exp()}; }, {x});
  EXPECT_EQ(fold_constants(g), 0);
}

}  // namespace
}  // namespace nabla::graph
