// Common-subexpression elimination. Nodes are pure functions of (op, attrs, inputs), so a second
// node with the same triple is replaced by the first; scalar constants with equal values are merged
// first so that e.g. two `x * 2.0` calls become one node.
#include <map>

#include "graph/passes/passes.h"

namespace nabla::graph {
namespace {

bool same_scalar(const Value& a, const Value& b) {
  if (a.dtype != b.dtype || !(a.shape == b.shape) || a.tensor.numel() != 1 || b.tensor.numel() != 1)
    return false;
  return a.tensor.to(kFloat64).item<double>() == b.tensor.to(kFloat64).item<double>();
}

}  // namespace

int eliminate_common_subexpressions(Graph& g) {
  int merged = 0;
  std::vector<int> scalars;
  std::vector<bool> used(g.values.size(), false);
  for (const auto& n : g.nodes)
    for (int i : n.inputs) used[i] = true;
  for (int v = 0; v < static_cast<int>(g.values.size()); ++v) {
    const Value& val = g.values[v];
    if (!used[v] || val.kind != ValueKind::kConstant || val.tensor.numel() != 1) continue;
    bool done = false;
    for (int s : scalars)
      if (same_scalar(g.values[s], val)) {
        g.replace_uses(v, s);
        done = true;
        break;
      }
    if (!done) scalars.push_back(v);
  }
  std::map<std::pair<int, std::vector<int>>, std::vector<int>> seen;  // (op, inputs) -> nodes
  std::vector<Node> kept;
  for (auto& n : g.nodes) {
    const std::string family = op_family(n.op);
    bool pure = family != "optim" && family != "random" && n.epilogue.empty();
    if (pure) {
      auto& bucket = seen[{static_cast<int>(n.op), n.inputs}];
      int match = -1;
      for (int k : bucket)
        if (kept[k].attrs == n.attrs) match = k;
      if (match >= 0) {
        for (size_t j = 0; j < n.outputs.size(); ++j) g.replace_uses(n.outputs[j], kept[match].outputs[j]);
        ++merged;
        continue;
      }
      bucket.push_back(static_cast<int>(kept.size()));
    }
    kept.push_back(std::move(n));
    // Nodes not yet visited are still in g.nodes, so replace_uses above reaches their inputs.
  }
  g.nodes = std::move(kept);
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (int o : g.nodes[k].outputs) g.values[o].node = static_cast<int>(k);
  return merged;
}

}  // namespace nabla::graph
