// Update scheduling: each optimizer update moves right after its gradient (before/after order).
#include "../graph_test_util.h"

namespace nabla::graph {
namespace {

std::string op_sequence(const Graph& g) {
  std::string s;
  for (const auto& n : g.nodes) s += std::string(s.empty() ? "" : " ") + ops::op_name(n.op);
  return s;
}

TEST(ScheduleUpdates, UpdatesFollowTheirGradients) {
  manual_seed(3);
  nn::Linear l1(4, 3, /*bias=*/false), l2(3, 2, /*bias=*/false);
  optim::SGD opt(std::vector<Tensor>{l1->weight, l2->weight}, {.lr = 0.1});
  Tensor x = randn({5, 4});
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        opt.zero_grad();
        Tensor loss = l2(l1(in[0]).relu()).sum();
        loss.backward();
        opt.step();
        return std::vector<Tensor>{loss.detach()};
      },
      {x});
  dead_code_elimination(g);
  simplify(g);
  std::string before = op_sequence(g);
  // As traced: the whole backward pass, then both updates.
  EXPECT_EQ(before.substr(before.size() - 17), "sgd_step sgd_step") << before;
  Tensor w1 = l1->weight.detach().clone(), w2 = l2->weight.detach().clone();
  EXPECT_EQ(schedule_updates_early(g), 1);
  g.verify();
  std::string after = op_sequence(g);
  // l2's update runs as soon as its gradient exists and l2.weight has been read by the backward
  // matmul for l1's gradient; l1's update stays last.
  EXPECT_NE(after, before);
  EXPECT_EQ(after.substr(after.size() - 8), "sgd_step") << after;
  EXPECT_NE(after.find("sgd_step"), after.rfind("sgd_step"));
  std::size_t first_update = after.find("sgd_step");
  EXPECT_LT(first_update, after.size() - 8) << after;
  // Same results as the eager step (from the same starting weights).
  Tensor xs = randn({5, 4});
  {
    NoGradGuard ng;
    l1->weight.copy_(w1);
    l2->weight.copy_(w2);
  }
  plan_inplace(g);
  testing::run(g, {xs});
  Tensor g1 = l1->weight.detach().clone(), g2 = l2->weight.detach().clone();
  {
    NoGradGuard ng;
    l1->weight.copy_(w1);
    l2->weight.copy_(w2);
  }
  opt.zero_grad();
  l2(l1(xs).relu()).sum().backward();
  opt.step();
  EXPECT_LT(testing::max_abs_diff(g1, l1->weight), 1e-6);
  EXPECT_LT(testing::max_abs_diff(g2, l2->weight), 1e-6);
}

}  // namespace
}  // namespace nabla::graph
