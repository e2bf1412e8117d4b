// nabla::jit — graph mode. The same model runs eagerly (debuggable) or compiled (optimised), over
// the same op registry, with the same results.
//
//   auto fast = nabla::compile(model);          // an nn::Module, or any function of tensors
//   Tensor y = fast(x);                          // 1st call with a shape: traces (runs eagerly)
//   Tensor y2 = fast(x2);                        // same shapes/dtypes: runs the optimised graph
//
//   // A whole training step (forward, loss, backward, optimizer update) as one graph:
//   auto step = nabla::jit::compile_train_step(model, [](const Tensor& out, const Tensor& y) {
//     return nabla::F::cross_entropy(out, y); }, optimizer);
//   for (auto& [x, y] : batches) Tensor loss = step(x, y);
//
// How it works: tracing runs the function once eagerly while dispatch records every op into a
// graph (values + registry op ids + attributes); passes (constant folding, simplification, CSE,
// DCE, epilogue fusion, in-place reuse) rewrite it; the executor runs the registry's kernels into
// one pre-planned arena. A cache keyed on input shapes/dtypes (and grad mode, training mode,
// optimizer state layout) retraces when they change. Reading a traced tensor's value (item(),
// to_vector()) inside a trace throws jit::UntraceableError instead of silently freezing the value;
// rand from the default generator (Dropout) is a graph op drawing fresh numbers on every run.
// Compiled calls do not record autograd history and do not fill `.grad`.
// Design: docs/graph_mode.md.
#pragma once
#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nabla/nn/module.h"
#include "nabla/tensor.h"
namespace nabla::optim {
class Optimizer;
}

namespace nabla::jit {

/// Thrown while tracing by what a graph cannot express (random draws, reading a traced value on the
/// host, optimizers without a graph op). Callers that can run eagerly instead (Keras fit) catch it.
class UntraceableError : public Error {
 public:
  using Error::Error;
};

struct CompileOptions {
  bool optimize = true;       // run the graph passes (off: the traced graph as recorded)
  size_t max_cache_size = 8;  // compiled graphs kept per function (least recently used dropped)
  /// compile_train_step only: batch shards of the data-parallel schedule (0 = auto: 2 from 32
  /// samples up when the step's intermediates outweigh its parameters 4x, else 1; 1 = off; n).
  /// Shards run their forward + backward concurrently (one thread each), the gradients are
  /// reduced in a fixed order, then one optimizer update runs. The count depends on shapes only,
  /// so results do not depend on the thread count. Steps that are not separable over samples
  /// (Dropout, BatchNorm in training mode, losses that mix samples) fall back to the whole-batch
  /// graph: see Stats::shards and docs/graph_mode.md.
  int batch_shards = 0;
};

/// A function of tensors, as traced and compiled.
using Fn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
/// Loss of a model's output against a target.
using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

namespace detail {
struct CompiledGraph;
}

/// One traced (and optimised) graph, ready to run on inputs of the traced shapes and dtypes.
class Graph {
 public:
  /// Runs the graph's kernels (not the traced eager calls) and applies its updates.
  std::vector<Tensor> operator()(const std::vector<Tensor>& inputs) const;
  /// Readable text form of the optimised graph.
  std::string dump() const;
  /// Readable text form of the graph as traced, before the passes.
  std::string dump_traced() const;
  /// The outputs of the eager run made while tracing.
  const std::vector<Tensor>& traced_outputs() const;
  size_t num_nodes() const;
  /// Bytes of the arena holding every intermediate value (and the sum without buffer reuse).
  int64_t arena_bytes() const;
  int64_t unplanned_bytes() const;
  /// Milliseconds spent tracing (one eager run of the function) and optimising.
  double compile_ms() const;
  /// Of those, milliseconds in the passes and the memory plan.
  double optimize_ms() const;
  const std::shared_ptr<detail::CompiledGraph>& impl() const { return impl_; }

 private:
  friend Graph trace(const Fn&, const std::vector<Tensor>&, const CompileOptions&);
  std::shared_ptr<detail::CompiledGraph> impl_;
};

/// Runs fn once eagerly on example_inputs, recording every op, and returns the optimised graph.
Graph trace(const Fn& fn, const std::vector<Tensor>& example_inputs, const CompileOptions& options = {});
/// Traces module.forward (in the module's current train/eval mode, without autograd).
Graph trace(nn::Module& module, const Tensor& example_input, const CompileOptions& options = {});

/// A function with a cache of compiled graphs keyed on its inputs' shapes, dtypes and devices.
class CompiledFunction {
 public:
  /// extra_key: more cache-key text (e.g. train/eval mode); module: names captured params in dumps.
  CompiledFunction(Fn fn, CompileOptions options, std::function<std::string()> extra_key = {},
                   const nn::Module* module = nullptr);
  /// First call for a key: traces (the eager run's result is returned); later calls run the graph.
  std::vector<Tensor> operator()(const std::vector<Tensor>& inputs);
  /// Single input, first output.
  Tensor operator()(const Tensor& x);
  /// Two inputs (x, target), first output: the shape of a train step.
  Tensor operator()(const Tensor& x, const Tensor& y);
  struct Stats {
    int traces = 0;         // how many times the function was traced
    int graph_runs = 0;     // how many calls ran a compiled graph
    size_t cache_size = 0;  // graphs held
    double last_compile_ms = 0;
    int shards = 1;                 // batch shards the last call ran (1: the whole batch at once)
    double shard_build_ms = 0;      // time to build the last data-parallel schedule (its 1st call)
    int64_t shard_arena_bytes = 0;  // memory of the last call's schedule (shard + update arenas,
                                    // reduced gradients); 0 when the last call was not sharded
  };
  Stats stats() const;
  /// The graph the last call used (undefined before the first call).
  const Graph* last_graph() const;

 private:
  friend CompiledFunction compile_train_step(nn::Module&, LossFn, optim::Optimizer&, const CompileOptions&);
  struct State;
  std::shared_ptr<State> state_;
};

/// Compiles a function of tensors.
CompiledFunction compile_fn(Fn fn, const CompileOptions& options = {});
/// Compiles a callable taking and returning std::vector<Tensor> (lambdas, functions).
template <typename F>
requires(!requires(const F& f) { f.ptr(); }) &&
    (!std::derived_from<std::remove_cvref_t<F>, nn::Module>)&&std::is_constructible_v<Fn,
                                                                                      F&&> CompiledFunction
    compile(F&& fn, const CompileOptions& options = {}) {
  return compile_fn(Fn(std::forward<F>(fn)), options);
}
/// Compiles module.forward for inference (no autograd); keyed also on train/eval mode. The module
/// must outlive the returned function.
CompiledFunction compile(nn::Module& module, const CompileOptions& options = {});
CompiledFunction compile(const std::shared_ptr<nn::Module>& module, const CompileOptions& options = {});
/// Compiles a module holder (nn::Sequential, nn::Linear, ...): shares its module.
template <typename Holder>
requires requires(const Holder& h) {
  h.ptr();
  typename Holder::ImplType;
}
CompiledFunction compile(const Holder& holder, const CompileOptions& options = {}) {
  return compile(std::shared_ptr<nn::Module>(holder.ptr()), options);
}

/// One compiled training step: zero_grad, forward, loss, backward, optimizer.step(); called as
/// step(x, y) it returns the loss (detached); step({x, y}) returns {loss, model output} (for
/// metrics). The first two calls run eagerly (tracing, then
/// retracing once the optimizer has created its state); later calls run one graph, or, when the
/// step is separable over samples, the data-parallel schedule (CompileOptions::batch_shards; the
/// 3rd call builds it, checking its gradients against the whole batch's). Model and
/// optimizer must outlive it. Supports SGD, Adam, AdamW, RMSprop (Adagrad throws jit::UntraceableError while
/// tracing).
CompiledFunction compile_train_step(nn::Module& model, LossFn loss_fn, optim::Optimizer& optimizer,
                                    const CompileOptions& options = {});

/// True while this thread is tracing.
bool is_tracing();

}  // namespace nabla::jit

namespace nabla {
using jit::compile;
}
