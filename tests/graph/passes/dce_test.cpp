// Dead-code elimination on a small graph (before/after dumps).
#include "../graph_test_util.h"

namespace nabla::graph {
namespace {

TEST(DeadCodeElimination, DropsUnusedNodes) {
  Tensor x = randn({2, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor unused = in[0].exp();
        return std::vector<Tensor>{in[0].neg()};
      },
      {x});
  testing::check_pass(g, dead_code_elimination, {x},
                      "graph(%0: float32[N,3]) {\n"
                      "  %1 = exp(%0) : float32[N,3]\n"
                      "  %2 = neg(%0) : float32[N,3]\n"
                      "  return (%2)\n}\n",
                      "graph(%0: float32[N,3]) {\n"
                      "  %2 = neg(%0) : float32[N,3]\n"
                      "  return (%2)\n}\n");
}

TEST(DeadCodeElimination, KeepsNodesFeedingUpdates) {
  Tensor state = zeros({3});
  Tensor x = randn({3});
  Graph g = testing::trace_raw(
      [state](const std::vector<Tensor>& in) {
        NoGradGuard ng;
        Tensor s = state;
        s.add_(in[0].exp());  // only reaches an update, not the output
        return std::vector<Tensor>{in[0] * 2.0};
      },
      {x});
  ASSERT_EQ(g.updates.size(), 1u);
  size_t before = g.nodes.size();
  EXPECT_EQ(dead_code_elimination(g), 0);
  EXPECT_EQ(g.nodes.size(), before);
}

}  // namespace
}  // namespace nabla::graph
