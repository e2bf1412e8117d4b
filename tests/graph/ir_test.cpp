// Graph IR: recorded structure, text dump, verification, op names.
#include "graph/ir.h"

#include "graph_test_util.h"

namespace nabla::graph {
namespace {

using testing::trace_raw;

TEST(GraphIr, TraceRecordsOpsWithShapesAndDump) {
  Tensor w = randn({3, 4}).set_requires_grad(true);
  Tensor x = randn({2, 3});
  Graph g = trace_raw(
      [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{relu(matmul(in[0], w))}; }, {x});
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op, ops::OpId::matmul);
  EXPECT_EQ(g.nodes[1].op, ops::OpId::relu);
  const Value& out = g.values[g.outputs[0]];
  EXPECT_EQ(out.shape, Shape({2, 4}));
  EXPECT_TRUE(out.symbolic_batch);
  EXPECT_EQ(g.values[g.nodes[0].inputs[1]].kind, ValueKind::kParam);  // w: captured by reference
  std::string d = g.dump();
  EXPECT_NE(d.find("graph(%0: float32[N,3])"), std::string::npos) << d;
  EXPECT_NE(d.find("= param : float32[3,4]"), std::string::npos) << d;
  EXPECT_NE(d.find("%2 = matmul(%0, %1) : float32[N,4]"), std::string::npos) << d;
  EXPECT_NE(d.find("%3 = relu(%2) : float32[N,4]"), std::string::npos) << d;
  EXPECT_NE(d.find("return (%3)"), std::string::npos) << d;
  g.verify();
}

TEST(GraphIr, AttrsAndConstantsAppearInDump) {
  Tensor x = randn({2, 3});
  Graph g = trace_raw(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{(in[0] * 2.0).sum({1})}; }, {x});
  std::string d = g.dump();
  EXPECT_NE(d.find("= const 2 : float32[]"), std::string::npos) << d;  // the wrapped scalar
  EXPECT_NE(d.find("sum(%2) {shape=[1]}"), std::string::npos) << d;
}

TEST(GraphIr, VerifyRejectsUseBeforeDefinition) {
  Tensor x = randn({2});
  Graph g =
      trace_raw([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].exp().neg()}; }, {x});
  std::swap(g.nodes[0], g.nodes[1]);
  try {
    g.verify();
    FAIL() << "expected nabla::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("neg) uses value %"), std::string::npos) << e.what();
  }
}

TEST(GraphIr, OpsAreNamedForSerialisation) {
  for (int k = 0; k < ops::kNumOps; ++k) {
    auto id = static_cast<ops::OpId>(k);
    EXPECT_EQ(op_from_name(ops::op_name(id)), id);
  }
  EXPECT_THROW(op_from_name("no_such_op"), Error);
  EXPECT_STREQ(op_family(ops::OpId::relu), "elementwise");
  EXPECT_STREQ(op_family(ops::OpId::adam_step), "optim");
}

}  // namespace
}  // namespace nabla::graph
