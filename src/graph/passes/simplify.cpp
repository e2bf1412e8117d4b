// Algebraic simplification: rewrites that replace a node's output by one of its inputs when the
// result is provably the same tensor (same shape and dtype): x*1, 1*x, x/1, x+0, 0+x, x-0,
// permute(permute(x)) = x, neg(neg(x)) = x, pow(x, 1) = x, view(view(x)) = view(x), view(x) to its
// own shape, and copies of a freshly computed value to its own dtype.
#include "graph/passes/passes.h"

namespace nabla::graph {
namespace {

/// The constant's value if it is a constant whose elements all equal one number.
bool constant_equals(const Graph& g, int v, double x) {
  const Value& val = g.values[v];
  if (val.kind != ValueKind::kConstant || val.tensor.numel() == 0 || val.tensor.numel() > 64) return false;
  for (double e : val.tensor.to(kFloat64).to_vector<double>())
    if (e != x) return false;
  return true;
}

bool same_type(const Value& a, const Value& b) { return a.dtype == b.dtype && a.shape == b.shape; }

}  // namespace

int simplify(Graph& g) {
  int count = 0;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& n = g.nodes[k];
    if (n.outputs.size() != 1 || !n.epilogue.empty()) continue;
    const int out = n.outputs[0];
    const Value& ov = g.values[out];
    auto producer = [&](int v) -> const Node* {
      return g.values[v].kind == ValueKind::kNode ? &g.nodes[g.values[v].node] : nullptr;
    };
    int replacement = -1;
    auto try_input = [&](int idx, int const_idx, double x) {
      if (replacement < 0 && n.inputs.size() == 2 && constant_equals(g, n.inputs[const_idx], x) &&
          same_type(g.values[n.inputs[idx]], ov))
        replacement = n.inputs[idx];
    };
    switch (n.op) {
      case ops::OpId::mul:
        try_input(0, 1, 1.0);
        try_input(1, 0, 1.0);
        break;
      case ops::OpId::div:
        try_input(0, 1, 1.0);
        break;
      case ops::OpId::add:
        try_input(0, 1, 0.0);
        if (n.attrs.f[0] == 0) try_input(1, 0, 0.0);  // alpha = 1 (stored as 0)
        break;
      case ops::OpId::sub:
        try_input(0, 1, 0.0);
        break;
      case ops::OpId::pow_scalar:
        if (n.attrs.f[0] == 1.0 && same_type(g.values[n.inputs[0]], ov)) replacement = n.inputs[0];
        break;
      case ops::OpId::neg:
      case ops::OpId::permute: {
        const Node* p = producer(n.inputs[0]);
        if (!p || p->op != n.op || !p->epilogue.empty()) break;
        bool identity = true;
        if (n.op == ops::OpId::permute)
          for (int d = 0; d < n.attrs.shape.size(); ++d)
            identity = identity && p->attrs.shape[static_cast<int>(n.attrs.shape[d])] == d;
        if (identity && same_type(g.values[p->inputs[0]], ov)) replacement = p->inputs[0];
        break;
      }
      case ops::OpId::view: {
        int in = n.inputs[0];
        const Node* p = producer(in);
        const Node* base = p ? producer(p->inputs[0]) : nullptr;
        // Only over a contiguous base (a kernel's output or a contiguous input), where any
        // reshape is a valid view.
        const bool contiguous_base = p && (base ? !is_view_op(base->op)
                                                : g.values[p->inputs[0]].kind == ValueKind::kInput &&
                                                      g.values[p->inputs[0]].contiguous);
        if (p && p->op == ops::OpId::view && contiguous_base) {
          n.inputs[0] = p->inputs[0];  // reshape of a reshape: one reshape of the base
          in = n.inputs[0];
          ++count;
        }
        if (g.values[in].shape == ov.shape && g.values[in].dtype == ov.dtype) replacement = in;
        break;
      }
      case ops::OpId::copy: {
        // A copy of a value this graph computed (contiguous, used by nobody who writes to it) to
        // its own dtype is the value itself: the graph is functional.
        const Node* p = producer(n.inputs[0]);
        if (p && !is_view_op(p->op) && std::string(op_family(p->op)) != "optim" &&
            same_type(g.values[n.inputs[0]], ov))
          replacement = n.inputs[0];
        break;
      }
      default:
        break;
    }
    if (replacement >= 0) {
      g.replace_uses(out, replacement);
      ++count;
    }
  }
  if (count) dead_code_elimination(g);
  return count;
}

}  // namespace nabla::graph
