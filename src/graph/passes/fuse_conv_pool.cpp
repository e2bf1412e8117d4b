// Conv + pool fusion, forward and backward (kernels: ops/conv/conv_pool_cpu.cpp,
// ops/conv/pool_conv_backward_cpu.cpp).
//
// Forward: a conv2d whose only reader is a relu_max_pool2d (what nn::Sequential makes of Conv2d ->
// ReLU -> MaxPool2d) becomes one conv2d_relu_max_pool2d node: each image is pooled while its conv
// output is in the thread's cache, so the conv output, usually the largest activation of a small
// CNN, is never written whole, and the arena does not hold it. Backward does not need it (the
// pool's VJP reads the pooled values and indices), so in a training graph the pool is its only
// reader.
// Backward: a max_pool2d_grad read only by a conv2d_weight_bias_grad (the first conv layer, whose
// input needs no gradient) becomes one pool_grad_conv2d_weight_bias_grad node: the pool's input
// gradient, as large as the conv output, is made per image inside the weight-grad kernel. This
// removes the largest buffer alive in the backward pass, where a CNN step's peak memory is.
// Backward of a later layer: a max_pool2d_grad read by a conv2d_input_grad and a
// conv2d_weight_bias_grad of the same conv becomes one pool_grad_conv2d_backward node, whose
// kernels skip the zeros of the pool's input gradient (not bit-identical: see its kernel file).
#include "graph/passes/passes.h"
#include "ops/conv/conv.h"
#include "ops/workspace.h"

namespace nabla::graph {
namespace {

bool is_2x2_pool(const ops::Attrs& a, int at) {
  return a.i[at] == 2 && a.i[at + 1] == 2 && a.i[at + 2] == 2 && a.i[at + 3] == 2 && a.i[at + 4] == 0 &&
         a.i[at + 5] == 0;
}

// Indices as uint8 window offsets: a fused conv + 2x2 pool whose indices are read only by pool
// gradient kernels (or by nobody) stores which of the window's 4 cells won in one byte instead of
// an int64 position, 8x less memory for a tensor that lives from the forward pass to the backward
// (the seed CNN: 3.2 + 1.6 MB at batch 64 become 0.4 + 0.2 MB).
void compact_pool_indices(Graph& g) {
  std::vector<bool> blocked(g.values.size(), false);
  for (int o : g.outputs) blocked[o] = true;
  for (const auto& u : g.updates) blocked[u.source] = true;
  for (const auto& n : g.nodes)
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      const int v = n.inputs[j];
      const bool pool_grad_index =
          (n.op == ops::OpId::max_pool2d_grad && j == 1 && is_2x2_pool(n.attrs, 0)) ||
          (n.op == ops::OpId::pool_grad_conv2d_weight_bias_grad && j == 2 && is_2x2_pool(n.attrs, 7)) ||
          (n.op == ops::OpId::pool_grad_conv2d_backward && j == 3 && is_2x2_pool(n.attrs, 7));
      if (!pool_grad_index) blocked[v] = true;
    }
  for (auto& n : g.nodes) {
    if (n.op != ops::OpId::conv2d_relu_max_pool2d || n.attrs.i[13] != 0 || !is_2x2_pool(n.attrs, 7)) continue;
    Value& idx = g.values[n.outputs[1]];
    if (blocked[n.outputs[1]] || idx.dtype != kInt64) continue;
    n.attrs.i[13] = 1;
    idx.dtype = kUInt8;
  }
}

// Bytes of one image of a 4-d [N, C, H, W] value (a per-thread buffer of the fused kernels).
int64_t image_bytes(const Value& v) {
  const Shape& s = v.shape;
  return s.size() == 4 ? s[1] * s[2] * s[3] * static_cast<int64_t>(dtype_size(v.dtype)) : 0;
}

// A fused node in place of `consumer` (outputs and position kept), with the conv attrs of
// `conv_attrs`, the pool attrs (i0..i5) of `pool` in i7..i12 and `workspace` bytes of scratch.
Node fused_node(ops::OpId op, std::vector<int> inputs, const Node& consumer, const ops::Attrs& conv_attrs,
                const ops::Attrs& pool, int64_t workspace) {
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.outputs = consumer.outputs;
  n.attrs = conv_attrs;
  for (int j = 0; j < 6; ++j) n.attrs.i[7 + j] = pool.i[j];
  n.workspace = workspace;
  return n;
}

bool same_conv_attrs(const ops::Attrs& a, const ops::Attrs& b) {
  for (int j = 0; j < 7; ++j)
    if (a.i[j] != b.i[j]) return false;
  return true;
}

// Backward of a later conv layer: a max_pool2d_grad read by exactly one conv2d_input_grad and one
// conv2d_weight_bias_grad of the same conv becomes one pool_grad_conv2d_backward node, which
// visits only the pool's winners (ops/conv/pool_conv_backward_cpu.cpp) where its sparse kernels
// apply. It takes the earlier consumer's place: its inputs are all computed by then, and the
// weight is read before its update (which reads the weight gradient, so comes later).
int fuse_pool_grad_conv_backward(Graph& g, const std::vector<int>& uses, std::vector<bool>& drop) {
  std::vector<int> input_grad(g.values.size(), -1), weight_grad(g.values.size(), -1);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    if (n.inputs.size() != 2 || !n.epilogue.empty()) continue;
    if (n.op == ops::OpId::conv2d_input_grad) input_grad[n.inputs[0]] = static_cast<int>(k);
    if (n.op == ops::OpId::conv2d_weight_bias_grad) weight_grad[n.inputs[0]] = static_cast<int>(k);
  }
  int fused = 0;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& pool_grad = g.nodes[k];
    if (pool_grad.op != ops::OpId::max_pool2d_grad || !pool_grad.epilogue.empty() || drop[k]) continue;
    const int gy = pool_grad.outputs[0];
    const int a = input_grad[gy], b = weight_grad[gy];
    if (uses[gy] != 2 || a < 0 || b < 0 || drop[a] || drop[b]) continue;
    const Node &ig = g.nodes[a], &wg = g.nodes[b];
    if (!same_conv_attrs(ig.attrs, wg.attrs) || !is_2x2_pool(pool_grad.attrs, 0)) continue;
    const int x = wg.inputs[1], w = ig.inputs[1];
    const ops::ConvGeom G = ops::conv_geom(g.values[x].shape, g.values[w].shape, wg.attrs);
    const ops::PoolGeom P = ops::pool_geom(g.values[gy].shape, pool_grad.attrs);
    if (!ops::conv_cpu::pool_grad_conv2d_backward_applies(G, P, g.values[x].dtype) ||
        g.values[w].dtype != kFloat32 || g.values[gy].shape != Shape({G.N, G.Co, G.Ho, G.Wo}))
      continue;
    std::vector<int> inputs{x, w};
    inputs.insert(inputs.end(), pool_grad.inputs.begin(), pool_grad.inputs.end());
    Node fusedn = fused_node(ops::OpId::pool_grad_conv2d_backward, std::move(inputs), ig, wg.attrs,
                             pool_grad.attrs, ops::conv_cpu::pool_grad_conv2d_backward_workspace(G));
    fusedn.attrs.shape = {};  // the output shapes follow from x and w
    fusedn.outputs = {ig.outputs[0], wg.outputs[0], wg.outputs[1]};
    for (int j = 0; j < 3; ++j) g.values[fusedn.outputs[j]].output = j;
    g.nodes[std::min(a, b)] = std::move(fusedn);
    drop[std::max(a, b)] = true;
    drop[k] = true;
    ++fused;
  }
  return fused;
}

}  // namespace

int fuse_conv_pool(Graph& g) {
  int fused = 0;
  std::vector<int> uses = g.use_counts();
  std::vector<bool> drop(g.nodes.size(), false);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& pool = g.nodes[k];
    if (pool.op != ops::OpId::relu_max_pool2d || pool.inputs.size() != 1 || !pool.epilogue.empty()) continue;
    const int in = pool.inputs[0];
    const Value& iv = g.values[in];
    if (iv.kind != ValueKind::kNode || uses[in] != 1 || drop[iv.node]) continue;
    const Node& conv = g.nodes[iv.node];
    if (conv.op != ops::OpId::conv2d || !conv.epilogue.empty() || conv.outputs.size() != 1) continue;
    // The conv's scratch plus one image's conv output per thread (the planned block serves the
    // calling thread; other threads take theirs from the caching allocator).
    const int64_t ws =
        conv.workspace + static_cast<int64_t>(ops::ws::round_up(static_cast<size_t>(image_bytes(iv))));
    Node fusedn =
        fused_node(ops::OpId::conv2d_relu_max_pool2d, conv.inputs, pool, conv.attrs, pool.attrs, ws);
    pool = std::move(fusedn);
    drop[iv.node] = true;
    ++fused;
  }
  fused += fuse_pool_grad_conv_backward(g, uses, drop);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& wgrad = g.nodes[k];
    if (wgrad.op != ops::OpId::conv2d_weight_bias_grad || wgrad.inputs.size() != 2 || !wgrad.epilogue.empty())
      continue;
    const int gy = wgrad.inputs[0];
    const Value& gv = g.values[gy];
    if (gv.kind != ValueKind::kNode || uses[gy] != 1 || drop[gv.node]) continue;
    const Node& pool_grad = g.nodes[gv.node];
    if (pool_grad.op != ops::OpId::max_pool2d_grad || !pool_grad.epilogue.empty()) continue;
    // x, then the pool grad's (g, indices[, y]).
    std::vector<int> inputs{wgrad.inputs[1]};
    inputs.insert(inputs.end(), pool_grad.inputs.begin(), pool_grad.inputs.end());
    // The weight grad's scratch plus the per-thread rows of the pool's input gradient.
    const int64_t ws =
        wgrad.workspace + static_cast<int64_t>(ops::ws::round_up(static_cast<size_t>(image_bytes(gv))));
    Node fusedn = fused_node(ops::OpId::pool_grad_conv2d_weight_bias_grad, std::move(inputs), wgrad,
                             wgrad.attrs, pool_grad.attrs, ws);
    wgrad = std::move(fusedn);
    drop[gv.node] = true;
    ++fused;
  }
  g.remove_nodes(drop);
  compact_pool_indices(g);
  return fused;
}

}  // namespace nabla::graph
