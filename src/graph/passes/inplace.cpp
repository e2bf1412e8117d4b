// In-place reuse. An elementwise node may write its output into the buffer of an input that is a
// kernel output of the same shape and dtype, not used after this node (through any alias) and not
// an output of the graph. An optimizer update (adam_step, sgd_step) writes each new tensor straight
// into the parameter or state it replaces when the old value is not read afterwards, which also
// turns the graph's final copy-back into a no-op.
#include <limits>

#include "graph/passes/passes.h"

namespace nabla::graph {
namespace {

/// Input index that output j of an optimizer op replaces (-1: none).
int replaced_input(ops::OpId op, int j) {
  if (op == ops::OpId::adam_step) return j == 0 ? 0 : j + 1;
  if (op == ops::OpId::sgd_step) return j == 0 ? 0 : 2;
  if (op == ops::OpId::weight_grad_adam_step) return j + 2;
  return -1;
}

}  // namespace

bool is_view_op(ops::OpId id) { return ops::op_def(id).view != nullptr; }

int plan_inplace(Graph& g) {
  const int nv = static_cast<int>(g.values.size());
  constexpr int kForever = std::numeric_limits<int>::max();
  std::vector<int> last_use(nv, -1);
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (int i : g.nodes[k].inputs) last_use[i] = static_cast<int>(k);
  for (int o : g.outputs) last_use[o] = kForever;
  for (const auto& u : g.updates) last_use[u.source] = kForever;
  std::vector<int> update_source_of(nv, -1);
  for (const auto& u : g.updates) update_source_of[u.target] = u.source;
  // root[v]: whose buffer v uses; alias_last[r]: last use of any value living in r's buffer.
  std::vector<int> root(nv), alias_last(nv);
  for (int v = 0; v < nv; ++v) root[v] = v, alias_last[v] = last_use[v];
  for (int o : g.outputs) alias_last[o] = kForever;
  int count = 0;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& n = g.nodes[k];
    const int kk = static_cast<int>(k);
    n.inplace.assign(n.outputs.size(), -1);
    if (is_view_op(n.op)) {
      int r = root[n.inputs[0]];
      root[n.outputs[0]] = r;
      alias_last[r] = std::max(alias_last[r], last_use[n.outputs[0]]);
      continue;
    }
    auto claim = [&](int j, int idx) {
      const int v = n.inputs[idx], o = n.outputs[j], r = root[v];
      n.inplace[j] = idx;
      root[o] = r;
      alias_last[r] = std::max(alias_last[r], last_use[o]);
      ++count;
    };
    auto only_alias_here = [&](int v, int idx) {
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (static_cast<int>(i) != idx && root[n.inputs[i]] == root[v]) return false;
      return true;
    };
    const bool optim = n.op == ops::OpId::adam_step || n.op == ops::OpId::sgd_step ||
                       n.op == ops::OpId::weight_grad_adam_step;
    if (optim) {
      for (size_t j = 0; j < n.outputs.size(); ++j) {
        const int idx = replaced_input(n.op, static_cast<int>(j));
        const int v = n.inputs[idx];
        const Value& val = g.values[v];
        bool ok = root[v] == v && alias_last[v] <= kk && only_alias_here(v, idx);
        if (val.kind == ValueKind::kParam)
          ok = ok && update_source_of[v] == n.outputs[j];  // the param ends up holding exactly this
        else
          ok = ok && val.kind == ValueKind::kNode;
        if (ok) claim(static_cast<int>(j), idx);
      }
      continue;
    }
    if (std::string(op_family(n.op)) != "elementwise" || n.op == ops::OpId::fill || n.outputs.size() != 1)
      continue;
    const Value& ov = g.values[n.outputs[0]];
    for (size_t idx = 0; idx < n.inputs.size(); ++idx) {
      const int v = n.inputs[idx];
      const Value& val = g.values[v];
      // A kernel output (possibly itself written in place): contiguous over its whole buffer.
      if (val.kind != ValueKind::kNode || is_view_op(g.nodes[val.node].op)) continue;
      if (g.values[root[v]].kind != ValueKind::kNode) continue;  // never into inputs or params
      if (val.dtype != ov.dtype || !(val.shape == ov.shape)) continue;
      if (alias_last[root[v]] != kk || !only_alias_here(v, static_cast<int>(idx))) continue;
      claim(0, static_cast<int>(idx));
      break;
    }
  }
  return count;
}

}  // namespace nabla::graph
