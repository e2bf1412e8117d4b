// The graph executor: binds inputs, params and constants, then runs each node's registry kernel
// (OpDef::kernels[device]; views through OpDef::view) into buffers of one pre-planned arena. The
// recorded eager calls are not replayed: only the IR is used.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "graph/ir.h"
#include "graph/passes/passes.h"

namespace nabla::graph {

class Executor {
 public:
  /// Plans memory for `g` and allocates the arena once.
  explicit Executor(Graph g);
  /// Runs the graph: returns its outputs (copied out of the arena) and applies its updates.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  /// Like run, but the outputs are borrowed: views of the arena (or of inputs and params), valid
  /// until the next run. For callers that consume them at once (the sharded train step).
  std::vector<Tensor> run_borrowed(const std::vector<Tensor>& inputs);
  /// Frees the arena (allocated again by the next run): a graph kept only as a fallback.
  void release_arena();
  const Graph& graph() const { return graph_; }
  const MemoryPlan& memory_plan() const { return plan_; }

 private:
  void allocate_arena();
  std::vector<Tensor> run_impl(const std::vector<Tensor>& inputs, bool borrow);
  void run_nodes();  // every node's kernel, in order, on slots_
  Graph graph_;
  MemoryPlan plan_;
  std::shared_ptr<detail::Storage> arena_;
  std::vector<Tensor> bound_;  // per value: a tensor over its arena buffer (kernel outputs)
  std::vector<Tensor> slots_;  // per value: the tensor it holds during a run
  // View nodes over buffers that outlive a run (arena, parameters): the view made by the last
  // run, and the base it was made of (remade when the base changes).
  struct ViewBase {
    const detail::Storage* storage = nullptr;
    int64_t offset = 0;
    Shape strides;
  };
  std::vector<Tensor> view_cache_;
  std::vector<ViewBase> view_base_;
  std::vector<bool> cache_view_;
  bool use_team_ = true;  // false once a run's kernels split nothing (backend/cpu/team.h)
};

}  // namespace nabla::graph
