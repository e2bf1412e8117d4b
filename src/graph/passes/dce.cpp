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
  std::vector<Node> kept;
  int removed = 0;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    if (keep[k])
      kept.push_back(std::move(g.nodes[k]));
    else
      ++removed;
  }
  g.nodes = std::move(kept);
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (int o : g.nodes[k].outputs) g.values[o].node = static_cast<int>(k);
  return removed;
}

}  // namespace nabla::graph
