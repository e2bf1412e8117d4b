// Tracing: while a Tracer is active on this thread, dispatch() still runs every op eagerly (so
// autograd, validation and shapes behave exactly as in eager mode) and also appends the op to the
// Tracer's Graph. Tensors are mapped to graph values by TensorImpl identity; a tensor the trace has
// not seen is captured (kParam, by reference), and after the trace a captured tensor that nothing
// outside holds becomes a kConstant. In-place writes rebind the written tensor to a new value; a
// write into a captured tensor becomes a graph Update.
//
// The eager hot path pays one thread-local pointer test (active_tracer()).
#pragma once
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "graph/ir.h"

namespace nabla::graph {

class Tracer {
 public:
  Graph graph;

  /// The value a tensor currently stands for; captures unseen tensors as params.
  int value_of(const Tensor& t);
  /// Registers a traced function argument.
  int add_input(const Tensor& t);
  /// Records an executed op: inputs are looked up, outputs bound to new values.
  void record(ops::OpId id, const Tensor* in, int n, const ops::Attrs& attrs, const Tensor* out,
              const ops::TensorMeta* metas, int num_outputs);
  /// Call before an in-place write into `t` (captures it and keeps a snapshot of its value, used if
  /// it turns out to be a constant).
  void before_write(const Tensor& t);
  /// After an in-place write: `t` now holds value `v` (an update when t is captured).
  void rebind(const Tensor& t, int v);
  /// `t` is a new handle on `of`'s data (detach): it stands for the same value, if `of` has one.
  void alias(const Tensor& t, const Tensor& of);
  /// Runs fn on every replay of the graph, before the graph (optimizer step counters).
  void add_host_call(std::function<void()> fn) { host_calls.push_back(std::move(fn)); }
  /// Ends the trace: marks outputs, turns unshared captures into constants, drops the bookkeeping.
  void finish(const std::vector<Tensor>& outputs);

  std::vector<std::function<void()>> host_calls;
  /// True when `impl` stands for a traced value (an input, a capture or an op result).
  bool knows(const detail::TensorImpl* impl) const { return current_.count(impl) != 0; }

 private:
  void bind(const Tensor& t, int v);
  std::unordered_map<const detail::TensorImpl*, int> current_;   // impl -> value it holds now
  std::unordered_map<const detail::TensorImpl*, int> captured_;  // impl -> its kParam value
  std::unordered_map<int, Tensor> snapshot_;                     // param value -> value before writes
  std::vector<Tensor> keep_;                                     // keeps mapped impls alive
  // Storage -> impls bound to values over it: a new handle made outside dispatch over the same
  // data (autograd's saved tensors, detach) resolves to the value it shows.
  std::unordered_map<const detail::Storage*, std::vector<const detail::TensorImpl*>> by_storage_;
};

extern constinit thread_local Tracer* t_active_tracer;
/// The tracer of this thread, or null (the only check on the eager path).
inline Tracer* active_tracer() { return t_active_tracer; }

/// Makes `t` the active tracer for its lifetime (restores the previous one).
class TraceScope {
 public:
  explicit TraceScope(Tracer* t) : prev_(t_active_tracer) { t_active_tracer = t; }
  ~TraceScope() { t_active_tracer = prev_; }
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  Tracer* prev_;
};

/// Throws nabla::Error if a value computed inside an active trace is read on the host (`who` is
/// "item", "to_vector"): the read would freeze data-dependent control flow into the graph.
void check_value_read(const detail::TensorImpl* impl, const char* who);

/// Inside its scope, host reads of traced values are allowed: argument validation that does not
/// steer the computation (e.g. cross_entropy's target range check). It runs at trace time only.
class AllowValueReads {
 public:
  AllowValueReads();
  ~AllowValueReads();
  AllowValueReads(const AllowValueReads&) = delete;
  AllowValueReads& operator=(const AllowValueReads&) = delete;
};

/// Throws nabla::Error naming `who` when called inside a trace (random draws, untraceable steps).
void check_not_tracing(const char* who, const char* why);

/// Bumped when state is created lazily (optimizer buffers): compiled functions retrace.
uint64_t state_epoch();
void bump_state_epoch();

}  // namespace nabla::graph
