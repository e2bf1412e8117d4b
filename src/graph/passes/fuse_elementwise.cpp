// Elementwise loop fusion. A chain of float32 elementwise ops (add, mul, sigmoid, ...) whose
// intermediate results nobody else reads becomes one fused_elementwise node: one loop over memory
// instead of one pass (and one buffer) per op. Typical chains are composite activations and their
// gradients (SiLU's x * sigmoid(x) and its backward), scaled residuals and hand-written losses.
//
// Groups grow in topological order: a node joins every group whose current result it reads when
// nobody else reads that result (merging them: x*sigmoid(x)'s gradient joins two branches); its
// other inputs become inputs of the fused node. Every value in a group has the group's output shape, except
// inputs holding a single element (broadcast scalars). The fused node takes the place of the group's last
// node, so the graph stays in topological order. Run before fuse_epilogues: a lone unary op after a GEMM
// still goes into the GEMM's epilogue.
#include <algorithm>

#include "graph/passes/passes.h"
#include "ops/elementwise/fused.h"

namespace nabla::graph {
namespace {

struct Group {
  std::vector<int> nodes;      // members, in graph order
  std::vector<int> externals;  // values read from outside the group, in first-use order
  int result = -1;             // the value the group currently produces
};

/// Can node n be part of a fused loop? Its output and every input are float32, inputs have the
/// output's shape or one element.
bool fusable(const Graph& g, const Node& n) {
  if (!ops::fused::supported(n.op) || n.outputs.size() != 1 || !n.epilogue.empty()) return false;
  const Value& out = g.values[n.outputs[0]];
  if (out.dtype != kFloat32 || !out.device.is_cpu()) return false;
  for (int i : n.inputs) {
    const Value& v = g.values[i];
    if (v.dtype != kFloat32 || !(v.shape == out.shape || v.shape.numel() == 1)) return false;
  }
  ops::fused::Instruction probe;
  return ops::fused::to_instruction(n.op, n.attrs, 0, 0, &probe);
}

}  // namespace

int fuse_elementwise_chains(Graph& g) {
  const std::vector<int> uses = g.use_counts();
  std::vector<int> group_of(g.nodes.size(), -1);
  std::vector<Group> groups;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    if (!fusable(g, n)) continue;
    // Groups whose result only n reads: n joins them, merging them into one when there are two.
    Group merged;
    merged.result = -2;  // none yet: every input of n that no group produces is external
    std::vector<int> joined;
    for (int i : n.inputs) {
      const Value& v = g.values[i];
      if (v.kind != ValueKind::kNode || uses[i] != 1) continue;
      const int gid = group_of[v.node];
      if (gid < 0 || groups[gid].result != i || !(g.values[i].shape == g.values[n.outputs[0]].shape))
        continue;
      if (std::find(joined.begin(), joined.end(), gid) != joined.end()) continue;
      const Group& other = groups[gid];
      Group trial = merged;
      trial.nodes.insert(trial.nodes.end(), other.nodes.begin(), other.nodes.end());
      for (int e : other.externals)
        if (std::find(trial.externals.begin(), trial.externals.end(), e) == trial.externals.end())
          trial.externals.push_back(e);
      if (trial.nodes.size() + 1 > static_cast<size_t>(ops::fused::kMaxInstructions)) continue;
      merged = std::move(trial);
      joined.push_back(gid);
    }
    // n's other inputs (not a joined group's result) become externals too.
    std::vector<int> results;
    for (int gid : joined) results.push_back(groups[gid].result);
    for (int i : n.inputs)
      if (std::find(results.begin(), results.end(), i) == results.end() &&
          std::find(merged.externals.begin(), merged.externals.end(), i) == merged.externals.end())
        merged.externals.push_back(i);
    if (merged.externals.size() > static_cast<size_t>(ops::fused::kMaxInputs)) {
      if (joined.empty()) continue;  // n alone reads too many values: it stays unfused
      // Too many inputs for one loop: n starts a group of its own instead.
      merged = Group{};
      merged.result = -2;
      joined.clear();
      for (int i : n.inputs)
        if (std::find(merged.externals.begin(), merged.externals.end(), i) == merged.externals.end())
          merged.externals.push_back(i);
      if (merged.externals.size() > static_cast<size_t>(ops::fused::kMaxInputs)) continue;
    }
    // Members stay in graph order: the joined groups are independent of each other (their
    // intermediates have a single use inside their own group), so any interleaving sorted by node
    // index is a valid order.
    merged.nodes.push_back(static_cast<int>(k));
    std::sort(merged.nodes.begin(), merged.nodes.end());
    merged.result = n.outputs[0];
    const int gid = joined.empty() ? static_cast<int>(groups.size()) : joined[0];
    for (size_t j = 1; j < joined.size(); ++j) groups[joined[j]] = Group{};  // absorbed
    if (joined.empty()) groups.emplace_back();
    groups[gid] = std::move(merged);
    for (int m : groups[gid].nodes) group_of[m] = gid;
  }

  int fused = 0;
  std::vector<bool> drop(g.nodes.size(), false);
  for (const Group& grp : groups) {
    if (grp.nodes.size() < 2) continue;
    // Registers: the externals first, then one per member in order.
    const int n_ext = static_cast<int>(grp.externals.size());
    auto reg_of = [&](int value, const std::vector<int>& member_results) {
      auto e = std::find(grp.externals.begin(), grp.externals.end(), value);
      if (e != grp.externals.end()) return static_cast<int>(e - grp.externals.begin());
      auto m = std::find(member_results.begin(), member_results.end(), value);
      return n_ext + static_cast<int>(m - member_results.begin());
    };
    std::vector<ops::fused::Instruction> program;
    std::vector<int> member_results;
    for (int k : grp.nodes) {
      const Node& n = g.nodes[k];
      ops::fused::Instruction ins;
      const int a = reg_of(n.inputs[0], member_results);
      const int b = n.inputs.size() > 1 ? reg_of(n.inputs[1], member_results) : 0;
      ops::fused::to_instruction(n.op, n.attrs, a, b, &ins);
      program.push_back(ins);
      member_results.push_back(n.outputs[0]);
    }
    const int last = grp.nodes.back();
    Node& host = g.nodes[last];
    host.op = ops::OpId::fused_elementwise;
    host.attrs = ops::fused::encode(program);
    host.inputs = grp.externals;
    for (size_t m = 0; m + 1 < grp.nodes.size(); ++m) drop[grp.nodes[m]] = true;
    ++fused;
  }
  if (fused == 0) return 0;
  g.remove_nodes(drop);
  return fused;
}

}  // namespace nabla::graph
