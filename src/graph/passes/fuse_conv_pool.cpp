// Conv + pool fusion, forward and backward (kernels: ops/conv/conv_pool_cpu.cpp). Bit-identical.
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
#include "graph/passes/passes.h"
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
          (n.op == ops::OpId::pool_grad_conv2d_weight_bias_grad && j == 2 && is_2x2_pool(n.attrs, 7));
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
