// Graph passes. Each takes a Graph and rewrites it in place, keeping it in topological order and
// leaving values it no longer uses unreferenced (the dump and the executor skip them). Order used
// by jit::compile: fold -> simplify -> cse -> simplify -> dce -> fuse xent -> fuse grad steps -> fuse chains
// -> fuse conv+pool -> fuse epilogues -> schedule -> inplace; memory planning runs last, in the executor.
#pragma once
#include <cstdint>
#include <vector>

#include "graph/ir.h"

namespace nabla::graph {

/// Dead-code elimination: drops nodes none of whose outputs reach an output or an update.
int dead_code_elimination(Graph& g);
/// Constant folding: runs nodes whose inputs are all constants once, at compile time.
int fold_constants(Graph& g);
/// Common-subexpression elimination: one node per (op, attrs, inputs); equal scalar constants merged.
int eliminate_common_subexpressions(Graph& g);
/// Algebraic simplification: x*1, x/1, x+0, x-0, double permute/neg, reshape chains, redundant copies.
int simplify(Graph& g);
/// Softmax cross-entropy fusion: the traced forward + backward of a mean cross_entropy with class
/// indices (~22 nodes) becomes one softmax_xent node computing the loss and d(logits) in one pass.
int fuse_softmax_xent(Graph& g);
/// Weight-gradient + update fusion: permute(dY) -> matmul(., X) -> adam_step(W, dW, ...) with dW read
/// by nobody else becomes one weight_grad_adam_step node (dW computed and applied tile by tile).
int fuse_weight_grad_updates(Graph& g);
/// Loop fusion: chains of float32 elementwise ops (intermediates read by nobody else) become one
/// fused_elementwise node that reads and writes memory once (ops/elementwise/fused.h).
int fuse_elementwise_chains(Graph& g);
/// Conv + pool fusion: a conv2d read only by a relu_max_pool2d becomes one conv2d_relu_max_pool2d
/// node that pools each image while its conv output is in cache (the conv output is never stored);
/// a max_pool2d_grad read only by a conv2d_weight_bias_grad becomes one
/// pool_grad_conv2d_weight_bias_grad node (the pool's input gradient is never stored whole); one
/// read by a conv2d_input_grad and a conv2d_weight_bias_grad of the same conv becomes one
/// pool_grad_conv2d_backward node that visits only the pool's winners.
int fuse_conv_pool(Graph& g);
/// Fusion: a unary elementwise op that is the only user of a linear/conv2d/matmul/elementwise result
/// runs in place in that node's epilogue (bias + activation after the GEMM; unary chains in one buffer).
int fuse_epilogues(Graph& g);
/// Moves optimizer updates right after their gradient and the last read of the old parameter,
/// so gradients die early (lower peak memory).
int schedule_updates_early(Graph& g);
/// In-place reuse: elementwise ops write into an input that dies there; optimizer updates write
/// straight into the parameters and state they update.
int plan_inplace(Graph& g);

/// Where each value lives in the arena, from liveness (greedy by size, first fit).
struct MemoryPlan {
  std::vector<int> root;        // value -> the value whose buffer it uses (views, in-place)
  std::vector<int64_t> offset;  // byte offset in the arena for arena buffers, else -1
  int64_t arena_bytes = 0;
  int64_t naive_bytes = 0;                // sum of the buffers without reuse (for the report)
  std::vector<int64_t> workspace_offset;  // node -> offset of its kernel workspace, or -1
};
MemoryPlan plan_memory(const Graph& g);

/// True for ops the executor runs as views (no kernel, output aliases input 0).
bool is_view_op(ops::OpId id);

}  // namespace nabla::graph
