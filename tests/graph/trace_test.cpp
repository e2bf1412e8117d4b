// Tracing: value reads and random draws are refused, captures are by reference, in-place writes
// to captured tensors become updates, and compile() retraces when input types change.
#include "graph/trace.h"

#include "graph_test_util.h"

namespace nabla::graph {
namespace {

using testing::max_abs_diff;
using testing::trace_raw;

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Trace, ReadingATracedValueIsAnError) {
  auto f = jit::compile([](const std::vector<Tensor>& in) {
    Tensor s = in[0].sum();
    if (s.item<float>() > 0) return std::vector<Tensor>{in[0] * 2.0};  // data-dependent branch
    return std::vector<Tensor>{in[0]};
  });
  std::string msg = error_of([&] { f(std::vector<Tensor>{ones({3})}); });
  EXPECT_NE(msg.find("item: reading a tensor's value inside jit::trace"), std::string::npos) << msg;
  msg = error_of([&] { f(std::vector<Tensor>{ones({3})}); });  // nothing was cached: still an error
  EXPECT_NE(msg.find("item:"), std::string::npos);
  EXPECT_FALSE(jit::is_tracing());  // the failed trace left no tracer behind
  auto g = jit::compile([](const std::vector<Tensor>& in) {
    auto v = in[0].to_vector<float>();
    return std::vector<Tensor>{in[0] * static_cast<double>(v[0])};
  });
  msg = error_of([&] { g(std::vector<Tensor>{ones({3})}); });
  EXPECT_NE(msg.find("to_vector: reading"), std::string::npos) << msg;
}

TEST(Trace, DropoutDrawsFreshMasksOnEveryRunLikeEager) {
  // rand (Dropout's draw) is traced as the rand_uniform op, which reads the default generator
  // each run: compiled calls give the eager masks for the same seed, and not the same mask twice.
  nn::Dropout drop(0.5);
  drop->train();
  auto f = jit::compile(drop);
  Tensor x = ones({8, 8});
  manual_seed(11);
  std::vector<Tensor> compiled;
  for (int k = 0; k < 4; ++k) compiled.push_back(f(x));
  EXPECT_EQ(f.stats().traces, 1);
  EXPECT_EQ(f.stats().graph_runs, 3);
  EXPECT_NE(f.last_graph()->dump().find("rand_uniform"), std::string::npos) << f.last_graph()->dump();
  manual_seed(11);
  for (int k = 0; k < 4; ++k) {
    NoGradGuard ng;
    EXPECT_EQ(max_abs_diff(compiled[k], drop(x)), 0.0) << "call " << k;
  }
  EXPECT_GT(max_abs_diff(compiled[2], compiled[3]), 0.0);
  // Two draws of the same shape in one graph stay two draws (CSE leaves random ops alone).
  auto two = jit::compile([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{rand(in[0].shape()) - rand(in[0].shape())};
  });
  two(std::vector<Tensor>{x});
  EXPECT_GT(two(std::vector<Tensor>{x})[0].abs().max().item<double>(), 0.0);
}

TEST(Trace, OtherRandomDrawsInsideATraceAreAnError) {
  auto f =
      jit::compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + randn({4})}; });
  std::string msg = error_of([&] { f(std::vector<Tensor>{ones({4})}); });
  EXPECT_NE(msg.find("randn cannot be traced"), std::string::npos) << msg;
  nn::Dropout drop(0.5);
  drop->eval();  // eval mode: identity
  auto g = jit::compile(drop);
  g(ones({4, 4}));
  EXPECT_EQ(max_abs_diff(g(ones({4, 4})), ones({4, 4})), 0.0);
}

TEST(Trace, CapturedTensorsAreReadByReference) {
  Tensor w = ones({3});
  auto f = jit::compile([w](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * w}; });
  Tensor x = full({3}, 2.0);
  f(std::vector<Tensor>{x});  // traces
  EXPECT_EQ(max_abs_diff(f(std::vector<Tensor>{x})[0], full({3}, 2.0)), 0.0);
  {
    NoGradGuard ng;
    w.fill_(5.0);  // a later change to the captured tensor is seen by the compiled graph
  }
  EXPECT_EQ(max_abs_diff(f(std::vector<Tensor>{x})[0], full({3}, 10.0)), 0.0);
  EXPECT_EQ(f.stats().traces, 1);
  EXPECT_EQ(f.stats().graph_runs, 2);
}

TEST(Trace, FreshTensorsBecomeConstants) {
  Tensor x = randn({2, 2});
  Graph g = trace_raw(
      [](const std::vector<Tensor>& in) {
        Tensor c = full({2, 2}, 3.0);
        c.add_(1.0);  // written during the trace: the constant keeps its initial value
        return std::vector<Tensor>{in[0] + c};
      },
      {x});
  int consts = 0;
  for (const auto& v : g.values) consts += v.kind == ValueKind::kConstant;
  EXPECT_GE(consts, 1);
  EXPECT_TRUE(g.updates.empty());
  EXPECT_LT(max_abs_diff(testing::run(g, {x})[0], x + 4.0), 1e-6);
}

TEST(Trace, InPlaceWritesToCapturedTensorsBecomeUpdates) {
  Tensor counter = zeros({});
  auto f = jit::compile([counter](const std::vector<Tensor>& in) {
    NoGradGuard ng;
    Tensor c = counter;
    c.add_(in[0].sum());
    return std::vector<Tensor>{c * 1.0};
  });
  Tensor x = ones({4});
  for (int k = 0; k < 5; ++k) f(std::vector<Tensor>{x});
  EXPECT_EQ(counter.item<float>(), 20.0f);  // 1 traced (eager) + 4 graph runs, each adds 4
  ASSERT_NE(f.last_graph(), nullptr);
  EXPECT_NE(f.last_graph()->dump().find("update %"), std::string::npos) << f.last_graph()->dump();
}

TEST(Trace, RetracesWhenInputTypesChange) {
  auto f = jit::compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].exp() * 2.0}; });
  f(ones({2, 3}));
  f(ones({2, 3}));
  f(ones({5, 3}));
  f(ones({5, 3}, kFloat64));
  Tensor y = f(ones({5, 3}, kFloat64));
  EXPECT_EQ(y.dtype(), kFloat64);
  EXPECT_EQ(f.stats().traces, 3);
  EXPECT_EQ(f.stats().graph_runs, 2);
  EXPECT_EQ(f.stats().cache_size, 3u);
  std::string msg =
      error_of([&] { (void)jit::trace([](const std::vector<Tensor>& in) { return in; }, {Tensor()}); });
  EXPECT_NE(msg.find("jit::trace: example input 0 is undefined"), std::string::npos) << msg;
}

TEST(Trace, CompiledFunctionsInsideATraceAreInlined) {
  auto inner = jit::compile([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].exp()}; });
  inner(ones({3}));
  inner(ones({3}));  // inner now has a graph
  auto outer =
      jit::compile([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{inner(in[0]) + 1.0}; });
  Tensor x = randn({3});
  outer(x);
  Tensor y = randn({3});
  EXPECT_LT(max_abs_diff(outer(y), y.exp() + 1.0), 1e-6);  // not frozen to x's value
}

TEST(Trace, GraphInputsAreChecked) {
  jit::Graph g = jit::trace([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + 1.0}; },
                            {ones({2, 3})});
  std::string msg = error_of([&] { g({ones({3, 3})}); });
  EXPECT_NE(msg.find("compiled graph: input 0 must be float32[N,3], got float32 of shape [3, 3]"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace nabla::graph
