// Executor: see executor.h. A run touches no allocator for intermediate values: every kernel
// output already has its tensor bound to an arena slice (made once, in the constructor).
#include "graph/executor.h"

#include <omp.h>

#include <algorithm>

#include "backend/cpu/team.h"
#include "graph/trace.h"
#include "nabla/autograd.h"
#include "ops/workspace.h"

namespace nabla::graph {
namespace {

Tensor arena_tensor(const std::shared_ptr<detail::Storage>& arena, int64_t offset, const Value& v) {
  auto storage = std::make_shared<detail::Storage>();
  storage->data = static_cast<char*>(arena->data) + offset;
  storage->nbytes = static_cast<size_t>(v.shape.numel()) * dtype_size(v.dtype);
  storage->device = arena->device;
  // Borrowed memory (free_fn stays null); the executor keeps the arena alive.
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = v.shape;
  impl->strides = contiguous_strides(v.shape);
  impl->dtype = v.dtype;
  return Tensor(std::move(impl));
}

Tensor fresh_tensor(const Value& v) {
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = detail::allocate_storage(v.shape.numel() * dtype_size(v.dtype), v.device);
  impl->shape = v.shape;
  impl->strides = contiguous_strides(v.shape);
  impl->dtype = v.dtype;
  return Tensor(std::move(impl));
}

Tensor view_of(const ops::OpDef& def, const Tensor& base, const ops::Attrs& attrs, const Value& v) {
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->shape = v.shape;
  impl->dtype = v.dtype;
  impl->is_view = true;
  def.view(base, attrs, v.shape, impl->strides, impl->offset);
  return Tensor(std::move(impl));
}

}  // namespace

Executor::Executor(Graph g) : graph_(std::move(g)) {
  graph_.verify();
  plan_ = plan_memory(graph_);
  const int nv = static_cast<int>(graph_.values.size());
  bound_.resize(nv);
  slots_.resize(nv);
  allocate_arena();
  view_cache_.resize(graph_.nodes.size());
  view_base_.resize(graph_.nodes.size());
  cache_view_.assign(graph_.nodes.size(), false);
  std::vector<bool> is_output(nv, false);
  for (int o : graph_.outputs) is_output[o] = true;
  for (size_t k = 0; k < graph_.nodes.size(); ++k) {
    const Node& n = graph_.nodes[k];
    const ops::OpDef& def = ops::op_def(n.op);
    // Not views of inputs (a new tensor every run; the cache would keep it alive) nor outputs
    // (returned to the caller, who may change the tensor).
    const int o = n.outputs[0];
    cache_view_[k] = def.view && !is_output[o] && graph_.values[plan_.root[o]].kind != ValueKind::kInput;
    NABLA_CHECK(def.view || def.kernels[static_cast<int>(graph_.values[n.outputs[0]].device.type)], def.name,
                " has no kernel for device ", graph_.values[n.outputs[0]].device);
  }
}

void Executor::allocate_arena() {
  // At least one cache line: zero-sized values are still bound to (empty) arena tensors.
  arena_ = detail::allocate_storage(static_cast<size_t>(std::max<int64_t>(plan_.arena_bytes, 64)), kCPU);
  for (size_t v = 0; v < graph_.values.size(); ++v)
    if (plan_.offset[v] >= 0) bound_[v] = arena_tensor(arena_, plan_.offset[v], graph_.values[v]);
}

void Executor::release_arena() {
  for (auto& b : bound_) b = Tensor();
  for (auto& v : view_cache_) v = Tensor();  // they hold the arena too
  arena_.reset();
}

std::vector<Tensor> Executor::run(const std::vector<Tensor>& inputs) { return run_impl(inputs, false); }
std::vector<Tensor> Executor::run_borrowed(const std::vector<Tensor>& inputs) {
  return run_impl(inputs, true);
}

void Executor::run_nodes() {
  Tensor ins[16], outs[8];
  for (size_t k = 0; k < graph_.nodes.size(); ++k) {
    const Node& n = graph_.nodes[k];
    const ops::OpDef& def = ops::op_def(n.op);
    const int ni = static_cast<int>(n.inputs.size());
    for (int i = 0; i < ni; ++i) ins[i] = slots_[n.inputs[i]];
    if (def.view) {
      // A view of an arena buffer or a parameter is the same every run: made once, reused.
      Tensor& cached = view_cache_[k];
      const detail::TensorImpl* base = ins[0].impl().get();
      if (!cached.defined() || view_base_[k].storage != base->storage.get() ||
          view_base_[k].offset != base->offset || view_base_[k].strides != base->strides) {
        Tensor v = view_of(def, ins[0], n.attrs, graph_.values[n.outputs[0]]);
        if (!cache_view_[k]) {
          slots_[n.outputs[0]] = std::move(v);
          continue;
        }
        cached = std::move(v);
        view_base_[k] = {base->storage.get(), base->offset, base->strides};
      }
      slots_[n.outputs[0]] = cached;
      continue;
    }
    const int no = static_cast<int>(n.outputs.size());
    for (int j = 0; j < no; ++j) {
      const int o = n.outputs[j];
      if (j < static_cast<int>(n.inplace.size()) && n.inplace[j] >= 0)
        outs[j] = ins[n.inplace[j]];
      else
        outs[j] = bound_[o].defined() ? bound_[o] : fresh_tensor(graph_.values[o]);
    }
    const int dev = static_cast<int>(graph_.values[n.outputs[0]].device.type);
    if (plan_.workspace_offset[k] >= 0) {
      // The kernel's scratch comes from its planned arena block (ops/workspace.h).
      ops::ws::Lend lend(static_cast<char*>(arena_->data) + plan_.workspace_offset[k],
                         static_cast<size_t>(n.workspace + 63) / 64 * 64);
      def.kernels[dev](ins, ni, outs, n.attrs);
    } else {
      def.kernels[dev](ins, ni, outs, n.attrs);
    }
    for (const auto& [op, attrs] : n.epilogue) ops::op_def(op).kernels[dev](&outs[0], 1, &outs[0], attrs);
    for (int j = 0; j < no; ++j) slots_[n.outputs[j]] = outs[j];
  }
}

std::vector<Tensor> Executor::run_impl(const std::vector<Tensor>& inputs, bool borrow) {
  TraceScope no_trace(nullptr);  // running a graph inside a trace would record its kernels twice
  NABLA_CHECK(inputs.size() == graph_.inputs.size(), "compiled graph: expected ", graph_.inputs.size(),
              " inputs, got ", inputs.size());
  if (!arena_) allocate_arena();
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Value& v = graph_.values[graph_.inputs[k]];
    NABLA_CHECK(inputs[k].defined() && inputs[k].shape() == v.shape && inputs[k].dtype() == v.dtype,
                "compiled graph: input ", k, " must be ", value_type_str(v), ", got ",
                inputs[k].defined() ? dtype_name(inputs[k].dtype()) : "undefined", " of shape ",
                inputs[k].defined() ? inputs[k].shape() : Shape{});
    // Views recorded over a contiguous input are only valid over a contiguous input.
    slots_[graph_.inputs[k]] =
        v.contiguous && !inputs[k].is_contiguous() ? inputs[k].contiguous() : inputs[k];
  }
  for (size_t v = 0; v < graph_.values.size(); ++v)
    if (graph_.values[v].kind == ValueKind::kParam || graph_.values[v].kind == ValueKind::kConstant)
      slots_[v] = graph_.values[v].tensor;
  // One team for the whole run (backend/cpu/team.h): the kernels' parallel loops hand their
  // chunks to it without a fork each, chunk k always to thread k. Not inside a parallel region
  // (the sharded step runs its executors on several threads, each serially), and not again for
  // a graph none of whose kernels split at these shapes.
  const int nt = cpu::num_threads();
  if (use_team_ && nt > 1 && !omp_in_parallel()) {
    if (cpu::with_team(nt, [&] { run_nodes(); }) == 0) use_team_ = false;
  } else {
    run_nodes();
  }
  std::vector<Tensor> result;
  {
    NoGradGuard no_grad;
    for (int o : graph_.outputs) {
      const Tensor& t = slots_[o];
      // Outputs never alias the arena (reused by the next run) nor an input or parameter (eager
      // ops return fresh tensors); a constant output is returned as is.
      const ValueKind root_kind = graph_.values[plan_.root[o]].kind;
      result.push_back(root_kind == ValueKind::kConstant || borrow ? t : t.clone());
    }
    for (const auto& u : graph_.updates) {
      const Tensor& target = graph_.values[u.target].tensor;
      const Tensor& src = slots_[u.source];
      if (src.raw_data() == target.raw_data() && src.strides() == target.strides()) {
        target.impl()->storage->version.fetch_add(1, std::memory_order_relaxed);
        continue;  // written in place
      }
      Tensor(target.impl()).detach().copy_(src);
    }
  }
  for (auto& s : slots_) s = Tensor();
  return result;
}

}  // namespace nabla::graph
