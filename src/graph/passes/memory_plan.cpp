// Static memory planning. Every kernel output that is not a view and not written in place of an
// input gets a buffer in one arena. A buffer is live from the node that writes it to the last node
// that reads it or any alias of it (views, in-place successors); outputs of the graph and update
// sources live to the end. Buffers are placed greedily, largest first, at the lowest offset that
// does not overlap a placed buffer whose lifetime intersects (the "greedy by size" planner of
// TFLite). One arena, allocated once, serves every run. A node's kernel workspace (Node::workspace,
// measured while tracing) is one more buffer, live only during that node.
#include <algorithm>
#include <limits>

#include "graph/passes/passes.h"

namespace nabla::graph {

MemoryPlan plan_memory(const Graph& g) {
  const int nv = static_cast<int>(g.values.size());
  constexpr int kForever = std::numeric_limits<int>::max();
  MemoryPlan plan;
  plan.root.resize(nv);
  plan.offset.assign(nv, -1);
  for (int v = 0; v < nv; ++v) plan.root[v] = v;
  std::vector<int> def(nv, -1), last(nv, -1);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    const int kk = static_cast<int>(k);
    for (int i : n.inputs) last[plan.root[i]] = std::max(last[plan.root[i]], kk);
    for (size_t j = 0; j < n.outputs.size(); ++j) {
      const int o = n.outputs[j];
      if (is_view_op(n.op))
        plan.root[o] = plan.root[n.inputs[0]];
      else if (j < n.inplace.size() && n.inplace[j] >= 0)
        plan.root[o] = plan.root[n.inputs[n.inplace[j]]];
      else
        def[o] = kk, last[o] = std::max(last[o], kk);
    }
  }
  for (int o : g.outputs) last[plan.root[o]] = kForever;
  for (const auto& u : g.updates) last[plan.root[u.source]] = kForever;
  struct Buf {
    int v;  // a value, or -1 - node for a node's workspace
    int64_t size;
    int def, last;
    int64_t off = 0;
  };
  std::vector<Buf> bufs;
  for (int v = 0; v < nv; ++v)
    if (def[v] >= 0 && plan.root[v] == v && g.values[v].kind == ValueKind::kNode) {
      int64_t bytes = g.values[v].shape.numel() * static_cast<int64_t>(dtype_size(g.values[v].dtype));
      bufs.push_back({v, (bytes + 63) / 64 * 64, def[v], last[v]});
      plan.naive_bytes += bufs.back().size;
    }
  plan.workspace_offset.assign(g.nodes.size(), -1);
  for (size_t k = 0; k < g.nodes.size(); ++k)
    if (g.nodes[k].workspace > 0) {
      const int kk = static_cast<int>(k);
      bufs.push_back({-1 - kk, (g.nodes[k].workspace + 63) / 64 * 64, kk, kk});
      plan.naive_bytes += bufs.back().size;
    }
  std::stable_sort(bufs.begin(), bufs.end(), [](const Buf& a, const Buf& b) { return a.size > b.size; });
  std::vector<Buf> placed;
  for (Buf b : bufs) {
    std::vector<std::pair<int64_t, int64_t>> busy;  // [offset, end) of lifetime-overlapping buffers
    for (const Buf& p : placed)
      if (!(p.last < b.def || b.last < p.def)) busy.emplace_back(p.off, p.off + p.size);
    std::sort(busy.begin(), busy.end());
    int64_t off = 0;
    for (auto [s, e] : busy) {
      if (off + b.size <= s) break;
      off = std::max(off, e);
    }
    b.off = off;
    if (b.v >= 0)
      plan.offset[b.v] = off;
    else
      plan.workspace_offset[-1 - b.v] = off;
    plan.arena_bytes = std::max(plan.arena_bytes, off + b.size);
    placed.push_back(b);
  }
  return plan;
}

}  // namespace nabla::graph
