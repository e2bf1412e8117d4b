// Weight-gradient + optimizer-update fusion. The backward pass of a linear layer computes
// dW = permute(dY) @ X into a buffer the size of W, and adam_step then reads it back once. When
// nothing else reads dW, this pass replaces permute -> matmul -> adam_step with one
// weight_grad_adam_step node (ops/optim/weight_grad_step.cpp) that computes dW tile by tile (the
// matmul kernel's own tiles) and updates each tile while it is in cache: no dW buffer in the arena,
// one node instead of three, bit-identical values. Runs before scheduling and in-place planning,
// which treat the fused node as the optimizer update it is.
#include "graph/passes/passes.h"
#include "ops/optim/update.h"

namespace nabla::graph {

int fuse_weight_grad_updates(Graph& g) {
  const std::vector<int> uses = g.use_counts();
  std::vector<bool> drop(g.nodes.size(), false);
  int fused = 0;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& a = g.nodes[k];
    if (a.op != ops::OpId::adam_step || !a.epilogue.empty() || a.inputs.size() != 6) continue;
    const int dw = a.inputs[1];
    const Value& dwv = g.values[dw];
    if (dwv.kind != ValueKind::kNode || uses[dw] != 1 || drop[dwv.node]) continue;
    const Node& mm = g.nodes[dwv.node];
    if (mm.op != ops::OpId::matmul || !mm.epilogue.empty() || mm.inputs.size() != 2) continue;
    const int pt = mm.inputs[0], x = mm.inputs[1];
    const Value& ptv = g.values[pt];
    if (ptv.kind != ValueKind::kNode || uses[pt] != 1 || drop[ptv.node]) continue;
    const Node& perm = g.nodes[ptv.node];
    if (perm.op != ops::OpId::permute || !(perm.attrs.shape == Shape{1, 0})) continue;
    const int dy = perm.inputs[0];
    const Value &dyv = g.values[dy], &xv = g.values[x], &pv = g.values[a.inputs[0]];
    if (dyv.shape.size() != 2 || xv.shape.size() != 2 || !(dwv.shape == pv.shape)) continue;
    if ((pv.dtype != kFloat32 && pv.dtype != kFloat64) || dyv.dtype != pv.dtype || xv.dtype != pv.dtype)
      continue;
    if (!pv.device.is_cpu() || !dyv.device.is_cpu() || !xv.device.is_cpu()) continue;
    drop[dwv.node] = true;
    drop[ptv.node] = true;
    const std::vector<int> in = a.inputs;
    a.op = ops::OpId::weight_grad_adam_step;
    a.inputs = {dy, x, in[0], in[2], in[3], in[4], in[5]};  // attrs (decay, amsgrad) stay
    a.workspace = ops::optim_cpu::weight_grad_workspace(dyv.shape[0], dyv.shape[1], xv.shape[1], pv.dtype);
    ++fused;
  }
  if (fused) g.remove_nodes(drop);
  return fused;
}

}  // namespace nabla::graph
