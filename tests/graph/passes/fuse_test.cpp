// Epilogue fusion on a small graph (before/after dumps).
#include "../graph_test_util.h"

namespace nabla::graph {
namespace {

TEST(Fusion, ActivationChainJoinsTheLinearEpilogue) {
  Tensor x = randn({2, 3});
  Tensor w = randn({4, 3}), b = randn({4});
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{F::linear(in[0], w, b).relu().exp().neg()};
      },
      {x});
  testing::check_pass(g, fuse_epilogues, {x},
                      "graph(%0: float32[N,3]) {\n"
                      "  %1 = param : float32[4,3]\n"
                      "  %2 = param : float32[4]\n"
                      "  %3 = linear(%0, %1, %2) : float32[N,4]\n"
                      "  %4 = relu(%3) : float32[N,4]\n"
                      "  %5 = exp(%4) : float32[N,4]\n"
                      "  %6 = neg(%5) : float32[N,4]\n"
                      "  return (%6)\n}\n",
                      "graph(%0: float32[N,3]) {\n"
                      "  %1 = param : float32[4,3]\n"
                      "  %2 = param : float32[4]\n"
                      "  %3 = linear(%0, %1, %2) +relu +exp +neg : float32[N,4]\n"
                      "  return (%3)\n}\n",
                      0.0);  // the same kernels: bit-identical
}

TEST(Fusion, NotWhenTheIntermediateIsUsedElsewhere) {
  Tensor x = randn({2, 3});
  Tensor w = randn({4, 3});
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        Tensor h = F::linear(in[0], w);
        return std::vector<Tensor>{h.relu(), h};  // h is an output too
      },
      {x});
  EXPECT_EQ(fuse_epilogues(g), 0);
}

}  // namespace
}  // namespace nabla::graph
