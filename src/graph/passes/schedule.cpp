// Update scheduling. Autograd records the whole backward pass before optimizer.step(), so in the
// traced order every gradient stays alive until the end. This pass moves each optimizer update to
// just after the last node it must follow: the producers of its inputs and every reader of the old
// parameter/state (through views such as W^T). The gradient then dies right away and the memory
// plan can reuse its buffer for the rest of the backward pass, lowering the peak.
#include <algorithm>

#include "graph/passes/passes.h"

namespace nabla::graph {

int schedule_updates_early(Graph& g) {
  const int nv = static_cast<int>(g.values.size());
  const int nn = static_cast<int>(g.nodes.size());
  std::vector<int> root(nv);
  for (int v = 0; v < nv; ++v) root[v] = v;
  std::vector<int> last_reader(nv, -1);  // by root, over non-optim readers
  for (int k = 0; k < nn; ++k) {
    const Node& n = g.nodes[k];
    if (is_view_op(n.op)) root[n.outputs[0]] = root[n.inputs[0]];
    if (std::string(op_family(n.op)) == "optim") continue;
    for (int i : n.inputs) last_reader[root[i]] = std::max(last_reader[root[i]], k);
  }
  std::vector<int> earliest(nn, -2);  // -2: not an update; else position to follow (-1: first)
  int moved = 0;
  for (int k = 0; k < nn; ++k) {
    const Node& n = g.nodes[k];
    if (std::string(op_family(n.op)) != "optim") continue;
    int e = -1;
    for (int i : n.inputs) {
      const Value& v = g.values[i];
      if (v.kind == ValueKind::kNode) e = std::max(e, v.node);
      e = std::max(e, last_reader[root[i]]);
    }
    // e is a non-update node (producers and readers above skip updates) or -1.
    earliest[k] = e;
    if (e < k - 1) ++moved;
  }
  if (!moved) return 0;
  std::vector<int> order;
  auto emit_after = [&](int pos) {
    for (int k = 0; k < nn; ++k)
      if (earliest[k] == pos) order.push_back(k);
  };
  emit_after(-1);
  for (int k = 0; k < nn; ++k) {
    if (earliest[k] != -2) continue;  // updates are emitted by emit_after
    order.push_back(k);
    emit_after(k);
  }
  NABLA_CHECK(static_cast<int>(order.size()) == nn, "schedule_updates_early: lost a node");
  std::vector<Node> nodes;
  for (int k : order) nodes.push_back(std::move(g.nodes[k]));
  g.nodes = std::move(nodes);
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (int o : g.nodes[k].outputs) g.values[o].node = static_cast<int>(k);
  return moved;
}

}  // namespace nabla::graph
