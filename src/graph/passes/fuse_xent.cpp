// Softmax cross-entropy fusion. F::cross_entropy with class-index targets and mean reduction is a
// composite (log_softmax + nll_loss), so a traced training step holds its forward and its backward
// as ~22 small nodes over [N, C]: log_softmax, ne, where, unsqueeze, gather, squeeze, neg, where,
// sum, copy, sum, div, then div, unsqueeze, expand, where, neg, view, scatter_add, sum, exp, mul,
// sub. Each is a kernel launch and a buffer; together they read the logits' worth of memory about
// ten times. This pass recognises exactly that subgraph (after CSE, so the target mask and index
// are shared) and replaces it with one softmax_xent node (ops/reduce/xent.cpp) producing the loss
// and d(logits) in one pass per row, with bit-identical values.
//
// Only that variant is matched: no class weights, no label smoothing, mean reduction, 2-d logits,
// the loss's gradient computed before the loss (grad_out not derived from it). Any other shape of
// graph (a different reduction, a weight, an intermediate read elsewhere) is left untouched.
#include <algorithm>

#include "graph/passes/passes.h"
#include "ops/reduce/reduce.h"

namespace nabla::graph {
namespace {

using ops::OpId;

struct Matcher {
  const Graph& g;
  std::vector<std::vector<int>> readers;  // value -> nodes reading it (once per input slot)
  std::vector<int> uses;                  // Graph::use_counts (also counts outputs, updates)
  std::vector<int> matched;               // nodes of the subgraph found so far

  explicit Matcher(const Graph& graph) : g(graph), readers(graph.values.size()), uses(graph.use_counts()) {
    for (size_t k = 0; k < g.nodes.size(); ++k)
      for (int i : g.nodes[k].inputs) readers[i].push_back(static_cast<int>(k));
  }

  /// The node producing v when it is a plain node of op `op` (no epilogue), else nullptr.
  const Node* producer(int v, OpId op) const {
    const Value& val = g.values[v];
    if (val.kind != ValueKind::kNode) return nullptr;
    const Node& n = g.nodes[val.node];
    if (n.op != op || !n.epilogue.empty() || n.outputs.size() != 1) return nullptr;
    return &n;
  }
  /// The only node reading v (v is no graph output or update source), when it is an `op` node.
  const Node* sole_reader(int v, OpId op) const {
    if (uses[v] != 1 || readers[v].size() != 1) return nullptr;
    const Node& n = g.nodes[readers[v][0]];
    if (n.op != op || !n.epilogue.empty() || n.outputs.size() != 1) return nullptr;
    return &n;
  }
  int index(const Node* n) const { return static_cast<int>(n - g.nodes.data()); }
  void take(const Node* n) { matched.push_back(index(n)); }
  bool all_readers_matched(int v) const {
    if (uses[v] != static_cast<int>(readers[v].size())) return false;  // an output or update source
    for (int r : readers[v])
      if (std::find(matched.begin(), matched.end(), r) == matched.end()) return false;
    return true;
  }
};

bool is_const_scalar(const Graph& g, int v, double value) {
  const Value& c = g.values[v];
  if (c.kind != ValueKind::kConstant || c.tensor.numel() != 1) return false;
  return c.tensor.to(kFloat64).item<double>() == value;
}

bool is_const_zeros(const Graph& g, int v, const Shape& shape, DType dtype) {
  const Value& c = g.values[v];
  if (c.kind != ValueKind::kConstant || !(c.shape == shape) || c.dtype != dtype) return false;
  return (c.tensor.to(kFloat64).abs().max().item<double>() == 0.0);
}

bool is_full_sum(const Node& n, int rank) {
  return n.op == OpId::sum && n.attrs.i[0] == 0 && static_cast<int>(n.attrs.shape.size()) == rank;
}

/// Follows single-use shape-only nodes (unsqueeze, view, expand) from v; returns the last value.
int through_shape_ops(const Matcher& m, int v, std::vector<int>& nodes) {
  for (;;) {
    if (m.uses[v] != 1 || m.readers[v].size() != 1) return v;
    const Node& n = m.g.nodes[m.readers[v][0]];
    if ((n.op != OpId::unsqueeze && n.op != OpId::view && n.op != OpId::expand) || n.outputs.size() != 1)
      return v;
    nodes.push_back(m.index(&n));
    v = n.outputs[0];
  }
}

struct Found {
  int logits, target, grad_out, loss, dlogits;
  int64_t ignore_index;
  int host;                // the loss node: the fused node takes its place
  std::vector<int> nodes;  // every node of the subgraph
};

bool match(const Graph& g, Matcher& m, int lsm_node, Found& f) {
  m.matched.clear();
  const Node& L = g.nodes[lsm_node];
  if (L.op != OpId::log_softmax || !L.epilogue.empty()) return false;
  const Value& xv = g.values[L.inputs[0]];
  if (xv.shape.size() != 2 || L.attrs.i[1] != 1 || (xv.dtype != kFloat32 && xv.dtype != kFloat64))
    return false;
  if (!xv.device.is_cpu()) return false;
  const DType dt = xv.dtype;
  const int64_t M = xv.shape[0], C = xv.shape[1];
  m.matched.push_back(lsm_node);
  const int lp = L.outputs[0];
  // log-probabilities: read by one gather (the loss) and one exp (the backward).
  if (m.uses[lp] != 2 || m.readers[lp].size() != 2) return false;
  const Node *gather = nullptr, *ex = nullptr;
  for (int r : m.readers[lp]) {
    const Node& n = g.nodes[r];
    if (n.op == OpId::gather && n.inputs[0] == lp && n.attrs.i[0] == 1) gather = &n;
    if (n.op == OpId::exp && n.epilogue.empty()) ex = &n;
  }
  if (!gather || !ex) return false;
  m.take(gather);
  m.take(ex);
  // index = unsqueeze(where(valid, target, 0), 1), valid = ne(target, ignore_index)
  const int idx = gather->inputs[1];
  const Node* unsq = m.producer(idx, OpId::unsqueeze);
  if (!unsq || unsq->attrs.i[0] != 1) return false;
  m.take(unsq);
  const Node* safe = m.producer(unsq->inputs[0], OpId::where);
  if (!safe || !is_const_scalar(g, safe->inputs[2], 0)) return false;
  m.take(safe);
  const int valid = safe->inputs[0], target = safe->inputs[1];
  const Node* ne = m.producer(valid, OpId::ne);
  if (!ne || ne->inputs[0] != target) return false;
  const Value& iv = g.values[ne->inputs[1]];
  if (iv.kind != ValueKind::kConstant || iv.tensor.numel() != 1 || iv.dtype != kInt64) return false;
  if (g.values[target].dtype != kInt64 || !(g.values[target].shape == Shape{M})) return false;
  m.take(ne);
  f.ignore_index = iv.tensor.item<int64_t>();
  // forward: loss = sum(where(valid, -squeeze(picked), 0)) / copy(sum(valid))
  const Node* sq = m.sole_reader(gather->outputs[0], OpId::squeeze);
  if (!sq) return false;
  const Node* neg = m.sole_reader(sq->outputs[0], OpId::neg);
  if (!neg) return false;
  const Node* mask = m.sole_reader(neg->outputs[0], OpId::where);
  if (!mask || mask->inputs[0] != valid || mask->inputs[1] != neg->outputs[0] ||
      !is_const_scalar(g, mask->inputs[2], 0))
    return false;
  const Node* total = m.sole_reader(mask->outputs[0], OpId::sum);
  if (!total || !is_full_sum(*total, 1)) return false;
  const Node* mean = m.sole_reader(total->outputs[0], OpId::div);
  if (!mean || mean->inputs[0] != total->outputs[0]) return false;
  const int count = mean->inputs[1];
  const Node* cast = m.producer(count, OpId::copy);
  if (!cast || g.values[count].dtype != dt) return false;
  const Node* nvalid = m.producer(cast->inputs[0], OpId::sum);
  if (!nvalid || nvalid->inputs[0] != valid || !is_full_sum(*nvalid, 1) || m.uses[cast->inputs[0]] != 1)
    return false;
  for (const Node* n : {sq, neg, mask, total, mean, cast, nvalid}) m.take(n);
  // backward of the mean: where(valid, expand(grad_out / count), 0), negated, as [M, 1]
  if (m.uses[count] != 2 || m.readers[count].size() != 2) return false;
  const Node* scale = nullptr;
  for (int r : m.readers[count])
    if (&g.nodes[r] != mean) scale = &g.nodes[r];
  if (!scale || scale->op != OpId::div || scale->inputs[1] != count || !scale->epilogue.empty()) return false;
  const int grad_out = scale->inputs[0];
  if (g.values[grad_out].shape.numel() != 1 || g.values[grad_out].dtype != dt) return false;
  m.take(scale);
  const int expanded = through_shape_ops(m, scale->outputs[0], m.matched);
  if (!(g.values[expanded].shape == Shape{M})) return false;
  const Node* gmask = m.sole_reader(expanded, OpId::where);
  if (!gmask || gmask->inputs[0] != valid || gmask->inputs[1] != expanded ||
      !is_const_scalar(g, gmask->inputs[2], 0))
    return false;
  const Node* gneg = m.sole_reader(gmask->outputs[0], OpId::neg);
  if (!gneg) return false;
  m.take(gmask);
  m.take(gneg);
  const int column = through_shape_ops(m, gneg->outputs[0], m.matched);
  if (!(g.values[column].shape == Shape{M, 1})) return false;
  // gather's VJP: scatter_add(zeros, index, column) along dim 1
  const Node* scatter = m.sole_reader(column, OpId::scatter_add);
  if (!scatter || scatter->inputs[1] != idx || scatter->inputs[2] != column || scatter->attrs.i[0] != 1 ||
      !is_const_zeros(g, scatter->inputs[0], Shape{M, C}, dt))
    return false;
  m.take(scatter);
  // log_softmax's VJP: d = gs - exp(lp) * sum(gs, 1, keepdim)
  const int gs = scatter->outputs[0];
  if (m.uses[gs] != 2 || m.readers[gs].size() != 2) return false;
  const Node *rowsum = nullptr, *sub = nullptr;
  for (int r : m.readers[gs]) {
    const Node& n = g.nodes[r];
    if (n.op == OpId::sum && n.attrs.i[0] == 1 && n.attrs.shape == Shape{1}) rowsum = &n;
    if (n.op == OpId::sub && n.inputs[0] == gs && n.inputs[1] != gs) sub = &n;
  }
  if (!rowsum || !sub || !sub->epilogue.empty() || !rowsum->epilogue.empty()) return false;
  const Node* mul = m.sole_reader(ex->outputs[0], OpId::mul);
  if (!mul || m.sole_reader(rowsum->outputs[0], OpId::mul) != mul) return false;
  if (m.sole_reader(mul->outputs[0], OpId::sub) != sub || sub->inputs[1] != mul->outputs[0]) return false;
  for (const Node* n : {rowsum, mul, sub}) m.take(n);
  // The internal values must be read by nothing outside the subgraph.
  for (int v : {valid, idx, unsq->inputs[0], count})
    if (!m.all_readers_matched(v)) return false;
  // The fused node sits where the loss was computed: grad_out must exist by then.
  const Value& go = g.values[grad_out];
  const int host = m.index(mean);
  if (go.kind == ValueKind::kNode && go.node >= host) return false;
  f.logits = L.inputs[0];
  f.target = target;
  f.grad_out = grad_out;
  f.loss = mean->outputs[0];
  f.dlogits = sub->outputs[0];
  f.host = host;
  f.nodes = m.matched;
  return true;
}

}  // namespace

int fuse_softmax_xent(Graph& g) {
  int fused = 0;
  size_t k = 0;
  while (k < g.nodes.size()) {
    Found f;
    if (g.nodes[k].op != OpId::log_softmax) {
      ++k;
      continue;
    }
    Matcher m(g);  // rebuilt per candidate: an earlier fusion changed the graph
    if (!match(g, m, static_cast<int>(k), f)) {
      ++k;
      continue;
    }
    std::vector<bool> drop(g.nodes.size(), false);
    for (int n : f.nodes) drop[n] = true;
    drop[f.host] = false;
    Node& host = g.nodes[f.host];
    host.op = OpId::softmax_xent;
    host.attrs = ops::Attrs{};
    host.attrs.i[0] = f.ignore_index;
    host.inputs = {f.logits, f.target, f.grad_out};
    host.outputs = {f.loss, f.dlogits};
    host.inplace.clear();
    host.workspace =
        ops::reduce_cpu::softmax_xent_workspace(g.values[f.logits].shape[0], g.values[f.logits].dtype);
    g.values[f.dlogits].output = 1;
    g.values[f.loss].output = 0;
    g.remove_nodes(drop);
    ++fused;
    k = 0;  // node indices moved: look again from the start
  }
  return fused;
}

}  // namespace nabla::graph
