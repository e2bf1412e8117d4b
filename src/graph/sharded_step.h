// Internal: the data-parallel schedule of a compiled training step (jit::compile_train_step).
//
// Why: eager nabla already runs each kernel at full speed, and a compiled step runs the same GEMM
// and adam_step kernels, so a whole-step graph cannot win much on one thread. What it can do that
// eager cannot is run the forward + backward of independent batch shards at the same time, each
// shard's kernels single-threaded (no per-op OpenMP fork/join), then reduce the gradients once and
// run the optimizer update: a static data-parallel schedule (XLA's SPMD partitioning on one host).
//
//   shard s (one Executor, its own arena):  (x[b_s:e_s], y[b_s:e_s]) -> {loss_s, out_s, grads_s}
//   reduce (fixed order, fixed chunks):     g = w_0 grads_0 + w_1 grads_1 + ...
//   update graph:                           (g_1..g_P) -> {} (optimizer step ops, param updates)
//
// The shard count depends on the batch size only (never the thread count), and the reduction's
// order and chunking are fixed, so results are bit-identical at any thread count. The schedule is
// only valid for steps that are separable over samples: it is refused when the step draws random
// numbers (Dropout), writes state other than through an optimizer step op (BatchNorm running
// statistics), and, as a safety net, when the sharded gradients of the first batch differ from the
// whole-batch gradients (relative 1e-4) for both weightings tried (n_s / B for mean losses, 1 for
// sum losses).
#pragma once
#include <memory>
#include <vector>

#include "graph/executor.h"
#include "nabla/jit.h"
#include "nabla/optim/optimizer.h"

namespace nabla::jit::detail {

/// Shards for a batch of `batch` samples: `requested` (CompileOptions::batch_shards) when > 0,
/// else 2 from 32 samples up (1 below). Never more shards than samples.
int choose_shards(int64_t batch, int requested);

class ShardedTrainStep {
 public:
  /// Builds the schedule for inputs {x, y} of these shapes and runs this call's training step with
  /// it (result = {loss, output}). Returns null, with the model, optimizer and grads untouched,
  /// when the step is not separable over samples (`full` is the whole-batch step graph), or, with
  /// batch_shards = 0 (auto), when its arena is under 4x the parameters' bytes (too little compute
  /// per parameter byte for the reduction and cross-core traffic to pay off).
  static std::unique_ptr<ShardedTrainStep> build(nn::Module& model, const LossFn& loss_fn,
                                                 optim::Optimizer& optimizer, const graph::Graph& full,
                                                 int64_t full_arena_bytes, const std::vector<Tensor>& inputs,
                                                 const CompileOptions& options, std::vector<Tensor>& result);
  /// One training step on inputs of the built shapes: {loss, output}.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  int shards() const { return static_cast<int>(size_.size()); }
  /// Bytes held: the shard arenas (one per lane used so far), the update graph's arena and the
  /// reduced gradients (held only once a step at 1 thread, or with more shards than lanes, ran).
  int64_t arena_bytes() const;

 private:
  struct Chunk {
    int param;
    int64_t begin, end;
  };
  /// Lane `lane`'s executor for shard s's shape (made on first use: lanes never share arenas).
  graph::Executor& executor(int lane, int s);
  /// Runs shard s on a lane: {loss, output, grads...} as borrowed arena views (contiguous).
  std::vector<Tensor> run_shard(int lane, int s, const std::vector<Tensor>& inputs);
  /// dst chunk c = w_0 g (s == 0; dst may be g itself) or += w_s g: the one per-element formula of
  /// every path.
  void accumulate(const Chunk& c, int s, const Tensor& g, const Tensor& dst) const;

  std::vector<int64_t> begin_, size_;  // each shard's rows of the batch
  std::vector<int> shape_of_;          // each shard's graph (sizes take at most two values)
  std::vector<double> weight_;         // each shard's weight in the loss and gradient sums
  std::vector<graph::Graph> templates_;
  std::vector<std::vector<std::unique_ptr<graph::Executor>>> lanes_;  // [lane][shape]
  std::vector<Tensor> grads_;  // reduced gradients (the update graph's inputs), made when needed
  std::vector<std::pair<Shape, DType>> grad_types_;  // their shapes and dtypes
  std::vector<Chunk> chunks_;                        // the reduction's fixed work items
  Shape out_shape_, loss_shape_;
  DType out_dtype_ = kFloat32, loss_dtype_ = kFloat32;
  jit::Graph update_;
};

}  // namespace nabla::jit::detail
