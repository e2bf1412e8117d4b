// Epilogue fusion. A unary elementwise node whose input is used by nobody else is folded into the
// producer: the executor runs the unary kernel in place on the producer's output buffer right
// after its kernel, while the data is still in cache. Linear (bias already inside the GEMM) + relu
// becomes one node with no intermediate tensor; chains such as exp -> neg -> sigmoid collapse into
// one node and one buffer. The unary kernels are the registry's, so results are bit-identical.
#include "graph/passes/passes.h"

namespace nabla::graph {
namespace {

bool is_unary_pointwise(ops::OpId op) {
  switch (op) {
    case ops::OpId::relu:
    case ops::OpId::leaky_relu:
    case ops::OpId::elu:
    case ops::OpId::gelu:
    case ops::OpId::sigmoid:
    case ops::OpId::tanh:
    case ops::OpId::softplus:
    case ops::OpId::neg:
    case ops::OpId::exp:
    case ops::OpId::log:
    case ops::OpId::sqrt:
    case ops::OpId::rsqrt:
    case ops::OpId::abs:
    case ops::OpId::pow_scalar:
    case ops::OpId::clamp:
      return true;
    default:
      return false;
  }
}

bool can_host_epilogue(ops::OpId op) {
  return op == ops::OpId::linear || op == ops::OpId::matmul || op == ops::OpId::conv2d ||
         (std::string(op_family(op)) == "elementwise" && op != ops::OpId::fill);
}

}  // namespace

int fuse_epilogues(Graph& g) {
  int fused = 0;
  std::vector<int> uses = g.use_counts();
  std::vector<bool> drop(g.nodes.size(), false);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& n = g.nodes[k];
    if (!is_unary_pointwise(n.op) || n.inputs.size() != 1) continue;
    const int in = n.inputs[0], out = n.outputs[0];
    const Value& iv = g.values[in];
    if (iv.kind != ValueKind::kNode || uses[in] != 1) continue;
    Node& p = g.nodes[iv.node];
    if (drop[iv.node] || p.outputs.size() != 1 || !can_host_epilogue(p.op)) continue;
    if (iv.dtype != g.values[out].dtype || !(iv.shape == g.values[out].shape)) continue;
    // The producer's output value now carries the fused result.
    p.epilogue.emplace_back(n.op, n.attrs);
    uses[in] = uses[out];
    g.replace_uses(out, in);
    drop[k] = true;
    ++fused;
  }
  g.remove_nodes(drop);
  return fused;
}

}  // namespace nabla::graph
