// Helpers for the graph tests: trace a function into a raw (unoptimised) graph, run graphs.
#pragma once
#include <gtest/gtest.h>

#include "graph/executor.h"
#include "graph/passes/passes.h"
#include "graph/trace.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"
#include "nabla/optim.h"

namespace nabla::graph::testing {

/// Traces fn on inputs (running it eagerly once) and returns the graph as recorded.
inline Graph trace_raw(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                       const std::vector<Tensor>& inputs) {
  Tracer t;
  std::vector<Tensor> out;
  {
    TraceScope scope(&t);
    for (const auto& x : inputs) t.add_input(x);
    out = fn(inputs);
  }
  t.finish(out);
  return std::move(t.graph);
}

/// Runs a graph through the executor.
inline std::vector<Tensor> run(const Graph& g, const std::vector<Tensor>& inputs) {
  Executor ex(g);
  return ex.run(inputs);
}

/// Applies `pass` to g, checks the dumps before and after against the expected text and that the
/// graph computes the same outputs on `inputs` (within tol) before and after.
template <typename Pass>
void check_pass(Graph& g, Pass pass, const std::vector<Tensor>& inputs, const std::string& before,
                const std::string& after, double tol = 1e-6) {
  EXPECT_EQ(g.dump(), before);
  std::vector<Tensor> ref = run(g, inputs);
  pass(g);
  EXPECT_EQ(g.dump(), after);
  g.verify();
  std::vector<Tensor> got = run(g, inputs);
  ASSERT_EQ(got.size(), ref.size());
  for (size_t k = 0; k < ref.size(); ++k)
    EXPECT_LE((got[k].to(kFloat64) - ref[k].to(kFloat64)).abs().max().item<double>(), tol);
}

/// The cleanup passes jit::compile runs before the fusion passes (fold, simplify, CSE, DCE).
inline void run_cleanup_passes(Graph& g) {
  fold_constants(g);
  simplify(g);
  eliminate_common_subexpressions(g);
  simplify(g);
  dead_code_elimination(g);
}

inline int count_op(const Graph& g, ops::OpId op) {
  int c = 0;
  for (const auto& n : g.nodes) c += n.op == op;
  return c;
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  return (a.to(kFloat64) - b.to(kFloat64)).abs().max().item<double>();
}

}  // namespace nabla::graph::testing
