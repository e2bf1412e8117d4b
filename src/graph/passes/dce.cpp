// Dead-code elimination: a backward walk from the outputs and updates.
#include "graph/passes/passes.h"

namespace nabla::graph {

int dead_code_elimination(Graph& g) {
  std::vector<bool> live(g.values.size(), false);
  for (int o : g.outputs) live[o] = true;
  for (const auto& u : g.updates) live[u.source] = true;
  std::vector<bool> keep(g.nodes.size(), false);
  for (int k = static_cast<int>(g.nodes.size()) - 1; k >= 0; --k) {
    const Node& n = g.nodes[k];
    for (int o : n.outputs) keep[k] = keep[k] || live[o];
    if (keep[k])
      for (int i : n.inputs) live[i] = true;
  }
  std::vector<bool> drop(keep.size());
  for (size_t k = 0; k < keep.size(); ++k) drop[k] = !keep[k];
  return g.remove_nodes(drop);
}

}  // namespace nabla::graph
