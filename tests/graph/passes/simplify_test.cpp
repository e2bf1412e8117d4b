// Algebraic simplification on a small graph (before/after dumps).
#include "../graph_test_util.h"

namespace nabla::graph {
namespace {

TEST(Simplify, RemovesIdentities) {
  Tensor x = randn({2, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{(in[0] * 1.0 + 0.0).t().t().neg().neg().reshape({3, 2}).reshape({2, 3}) /
                                   1.0};
      },
      {x});
  testing::check_pass(g, simplify, {x},
                      "graph(%0: float32[N,3]) {\n"
                      "  %1 = const 1 : float32[]\n"
                      "  %3 = const 0 : float32[]\n"
                      "  %11 = const 1 : float32[]\n"
                      "  %2 = mul(%0, %1) : float32[N,3]\n"
                      "  %4 = add(%2, %3) : float32[N,3]\n"
                      "  %5 = permute(%4) {shape=[1, 0]} : float32[3,2]\n"
                      "  %6 = permute(%5) {shape=[1, 0]} : float32[2,3]\n"
                      "  %7 = neg(%6) : float32[2,3]\n"
                      "  %8 = neg(%7) : float32[2,3]\n"
                      "  %9 = view(%8) {shape=[3, 2]} : float32[3,2]\n"
                      "  %10 = view(%9) {shape=[2, 3]} : float32[2,3]\n"
                      "  %12 = div(%10, %11) : float32[2,3]\n"
                      "  return (%12)\n}\n",
                      "graph(%0: float32[N,3]) {\n"
                      "  return (%0)\n}\n");
}

TEST(Simplify, KeepsOpsThatChangeShapeOrValue) {
  Tensor x = randn({2, 3});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        // x * ones([4, 2, 3]) broadcasts (new shape); x + 1 changes values; x.t() alone is needed.
        return std::vector<Tensor>{in[0] * ones({4, 2, 3}), in[0] + 1.0, in[0].t()};
      },
      {x});
  EXPECT_EQ(simplify(g), 0);
  EXPECT_EQ(testing::count_op(g, ops::OpId::mul), 1);
  EXPECT_EQ(testing::count_op(g, ops::OpId::add), 1);
  EXPECT_EQ(testing::count_op(g, ops::OpId::permute), 1);
}

}  // namespace
}  // namespace nabla::graph
