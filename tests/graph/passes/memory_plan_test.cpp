// Static memory planning: buffers with disjoint lifetimes share arena space.
#include "../graph_test_util.h"

namespace nabla::graph {
namespace {

TEST(MemoryPlan, ReusesBuffersOfDeadValues) {
  Tensor x = randn({16, 16});
  // A chain of matmuls: each result dies after the next one is computed.
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor h = in[0];
        for (int k = 0; k < 6; ++k) h = matmul(h, in[0]);
        return std::vector<Tensor>{h.sum()};
      },
      {x});
  MemoryPlan plan = plan_memory(g);
  const int64_t buf = 16 * 16 * 4;
  EXPECT_EQ(plan.naive_bytes, 6 * buf + 64);
  // Two matrices are live at a time (the input and output of one matmul); the final scalar sum
  // takes the place of a dead one.
  EXPECT_EQ(plan.arena_bytes, 2 * buf);
  for (size_t a = 0; a + 1 < g.nodes.size(); ++a) {
    // consecutive matmul results never share memory
    int va = g.nodes[a].outputs[0], vb = g.nodes[a + 1].outputs[0];
    EXPECT_NE(plan.offset[va], plan.offset[vb]);
  }
  std::vector<Tensor> out = testing::run(g, {x});
  Tensor ref = x;
  for (int k = 0; k < 6; ++k) ref = matmul(ref, x);
  EXPECT_LT(testing::max_abs_diff(out[0], ref.sum()), 1e-2 * ref.sum().abs().item<float>() + 1e-3);
}

TEST(MemoryPlan, OutputsAndUpdatesLiveToTheEnd) {
  Tensor x = randn({8});
  Graph g = testing::trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor a = in[0].exp();  // an output: its buffer may not be reused by b
        Tensor b = in[0].neg().exp();
        return std::vector<Tensor>{a, b.sum()};
      },
      {x});
  MemoryPlan plan = plan_memory(g);
  int a = g.nodes[0].outputs[0];
  for (size_t k = 1; k < g.nodes.size(); ++k) EXPECT_NE(plan.offset[g.nodes[k].outputs[0]], plan.offset[a]);
}

TEST(MemoryPlan, KernelWorkspaceIsTracedAndPlannedPerNode) {
  // conv2d's scratch (padded images / im2col columns) is measured while tracing and becomes one
  // arena block per conv node, live only during that node.
  Tensor x = randn({2, 3, 10, 10}), w1 = randn({8, 3, 3, 3}), w2 = randn({8, 8, 3, 3});
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        Tensor h = conv2d(in[0], w1, Tensor(), {.padding = {1, 1}});
        return std::vector<Tensor>{conv2d(h.relu(), w2, Tensor(), {.padding = {1, 1}}).sum()};
      },
      {x});
  MemoryPlan plan = plan_memory(g);
  int with_ws = 0;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    if (n.op != ops::OpId::conv2d) {
      EXPECT_EQ(n.workspace, 0) << ops::op_name(n.op);
      continue;
    }
    ASSERT_GT(n.workspace, 0);
    ++with_ws;
    const int64_t ws = plan.workspace_offset[k], ws_end = ws + n.workspace;
    ASSERT_GE(ws, 0);
    EXPECT_LE(ws_end, plan.arena_bytes);
    // Never overlaps the node's own output (written while the scratch is in use).
    const int o = n.outputs[0];
    const int64_t bytes = g.values[o].shape.numel() * 4;
    EXPECT_TRUE(ws_end <= plan.offset[o] || plan.offset[o] + bytes <= ws);
  }
  EXPECT_EQ(with_ws, 2);
  // Same results as eager with the scratch in the arena.
  std::vector<Tensor> out = testing::run(g, {x});
  Tensor ref =
      conv2d(conv2d(x, w1, Tensor(), {.padding = {1, 1}}).relu(), w2, Tensor(), {.padding = {1, 1}}).sum();
  EXPECT_LT(testing::max_abs_diff(out[0], ref), 1e-3);
}

}  // namespace
}  // namespace nabla::graph
