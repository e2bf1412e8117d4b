// jit::trace / jit::compile / jit::compile_train_step: tracing, the pass pipeline and the cache.
#include <chrono>
#include <list>
#include <sstream>

#include "graph/compiled_access.h"
#include "graph/executor.h"
#include "graph/sharded_step.h"
#include "graph/trace.h"
#include "nabla/autograd.h"
#include "nabla/jit.h"
#include "nabla/nn/module.h"
#include "nabla/optim/optimizer.h"
#include "ops/workspace.h"

namespace nabla::jit {

namespace detail {
struct CompiledGraph {
  std::string traced_dump;
  std::unique_ptr<graph::Executor> executor;
  std::vector<std::function<void()>> host_calls;
  std::vector<Tensor> traced_outputs;
  double compile_ms = 0;
  double optimize_ms = 0;  // passes + memory planning (compile_ms also counts the traced eager run)
};
}  // namespace detail

namespace {

void optimize(graph::Graph& g) {
  graph::fold_constants(g);
  graph::simplify(g);
  graph::eliminate_common_subexpressions(g);
  graph::simplify(g);
  graph::dead_code_elimination(g);
  graph::fuse_softmax_xent(g);
  graph::fuse_weight_grad_updates(g);
  graph::fuse_elementwise_chains(g);
  graph::fuse_conv_pool(g);
  graph::fuse_epilogues(g);
  graph::schedule_updates_early(g);
  graph::plan_inplace(g);
}

/// Gives captured parameters and buffers their module names ("0.weight") for dumps and bundles.
void name_params(graph::Graph& g, const nn::Module& m) {
  auto name_by = [&](const nn::OrderedDict<Tensor>& named) {
    for (const auto& item : named) {
      for (auto& v : g.values)
        if (v.kind == graph::ValueKind::kParam && v.name.empty() && v.tensor.defined() &&
            item.second.defined() && v.tensor.impl()->storage == item.second.impl()->storage)
          v.name = item.first;
    }
  };
  name_by(m.named_parameters());
  name_by(m.named_buffers());
}

thread_local const nn::Module* t_naming_module = nullptr;

}  // namespace

Graph trace(const Fn& fn, const std::vector<Tensor>& example_inputs, const CompileOptions& options) {
  NABLA_CHECK(!graph::active_tracer(), "jit::trace: nested tracing is not supported");
  auto t0 = std::chrono::steady_clock::now();
  graph::Tracer tracer;
  std::vector<Tensor> outputs;
  {
    graph::TraceScope scope(&tracer);
    ops::ws::take_high();  // workspace high-water marks are measured per recorded op from here
    for (const Tensor& x : example_inputs) tracer.add_input(x);
    outputs = fn(example_inputs);
  }
  tracer.finish(outputs);
  if (t_naming_module) name_params(tracer.graph, *t_naming_module);
  auto out = std::make_shared<detail::CompiledGraph>();
  out->traced_dump = tracer.graph.dump();
  auto t1 = std::chrono::steady_clock::now();
  if (options.optimize) optimize(tracer.graph);
  out->executor = std::make_unique<graph::Executor>(std::move(tracer.graph));
  out->optimize_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
  out->host_calls = std::move(tracer.host_calls);
  out->traced_outputs = std::move(outputs);
  out->compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  Graph g;
  g.impl_ = std::move(out);
  return g;
}

Graph trace(nn::Module& module, const Tensor& example_input, const CompileOptions& options) {
  return trace(
      [&module](const std::vector<Tensor>& in) {
        NoGradGuard no_grad;
        return std::vector<Tensor>{module.forward(in[0])};
      },
      {example_input}, options);
}

std::vector<Tensor> Graph::operator()(const std::vector<Tensor>& inputs) const {
  for (const auto& call : impl_->host_calls) call();
  return impl_->executor->run(inputs);
}
std::string Graph::dump() const { return impl_->executor->graph().dump(); }
std::string Graph::dump_traced() const { return impl_->traced_dump; }
const std::vector<Tensor>& Graph::traced_outputs() const { return impl_->traced_outputs; }
size_t Graph::num_nodes() const { return impl_->executor->graph().nodes.size(); }
int64_t Graph::arena_bytes() const { return impl_->executor->memory_plan().arena_bytes; }
int64_t Graph::unplanned_bytes() const { return impl_->executor->memory_plan().naive_bytes; }
double Graph::compile_ms() const { return impl_->compile_ms; }
double Graph::optimize_ms() const { return impl_->optimize_ms; }

namespace detail {
const graph::Graph& optimized_graph(const jit::Graph& g) { return g.impl()->executor->graph(); }
size_t num_host_calls(const jit::Graph& g) { return g.impl()->host_calls.size(); }
}  // namespace detail

bool is_tracing() { return graph::active_tracer() != nullptr; }

// ---- CompiledFunction: an LRU cache of graphs keyed on the inputs' types ----

namespace detail {
/// Builds a data-parallel schedule for a settled train-step graph and runs the call with it, or
/// returns null (compile_train_step; see sharded_step.h).
using MakeSharded = std::function<std::unique_ptr<ShardedTrainStep>(
    const Graph& full, const std::vector<Tensor>&, std::vector<Tensor>& result)>;
}  // namespace detail

struct CompiledFunction::State {
  struct Entry {
    std::string key;
    Graph graph;
    std::unique_ptr<detail::ShardedTrainStep> sharded;
    bool sharding_tried = false;
  };
  Fn fn;
  CompileOptions options;
  std::function<std::string()> extra_key;
  const nn::Module* module = nullptr;  // names params in dumps
  detail::MakeSharded make_sharded;    // compile_train_step only
  std::list<Entry> cache;              // most recently used first
  Stats stats;
  const Graph* last = nullptr;
};

CompiledFunction::CompiledFunction(Fn fn, CompileOptions options, std::function<std::string()> extra_key,
                                   const nn::Module* module)
    : state_(std::make_shared<State>()) {
  state_->module = module;
  state_->fn = std::move(fn);
  state_->options = options;
  state_->extra_key = std::move(extra_key);
}

namespace {

// The key of a call: each input's dtype, device and shape, grad mode, the state epoch and the
// extra key, as raw bytes (made on every call: a formatted string cost ~1 us of a ~50 us MLP step).
std::string cache_key(const std::vector<Tensor>& inputs, const std::function<std::string()>& extra) {
  std::string key;
  key.reserve(16 + inputs.size() * 48);
  auto put = [&key](int64_t v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  for (const Tensor& t : inputs) {
    NABLA_CHECK(t.defined(), "compiled function: an input is undefined");
    put(static_cast<int64_t>(t.dtype()) << 32 | static_cast<int64_t>(t.device().type) << 16 |
        static_cast<int64_t>(t.device().index + 1) << 8 | t.dim());
    for (int64_t d : t.shape()) put(d);
  }
  put(GradMode::is_enabled());
  put(static_cast<int64_t>(graph::state_epoch()));
  if (extra) key += extra();
  return key;
}

}  // namespace

std::vector<Tensor> CompiledFunction::operator()(const std::vector<Tensor>& inputs) {
  State& s = *state_;
  // Called while an outer function is being traced: run eagerly so that the outer trace records
  // these ops (running the graph would hide them and freeze its outputs as constants).
  if (graph::active_tracer()) return s.fn(inputs);
  std::string key = cache_key(inputs, s.extra_key);
  for (auto it = s.cache.begin(); it != s.cache.end(); ++it) {
    if (it->key != key) continue;
    s.cache.splice(s.cache.begin(), s.cache, it);
    State::Entry& e = s.cache.front();
    s.last = &e.graph;
    ++s.stats.graph_runs;
    if (s.make_sharded && !e.sharding_tried) {
      e.sharding_tried = true;
      auto t0 = std::chrono::steady_clock::now();
      std::vector<Tensor> result;
      e.sharded = s.make_sharded(e.graph, inputs, result);
      if (e.sharded) {
        s.stats.shard_build_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        s.stats.shards = e.sharded->shards();
        s.stats.shard_arena_bytes = e.sharded->arena_bytes();
        e.graph.impl()->executor->release_arena();  // kept for dumps; the schedule runs this key
        return result;
      }
    }
    if (e.sharded) {
      std::vector<Tensor> result = e.sharded->run(inputs);
      s.stats.shards = e.sharded->shards();
      s.stats.shard_arena_bytes = e.sharded->arena_bytes();  // lanes are made on first use
      return result;
    }
    s.stats.shards = 1;
    s.stats.shard_arena_bytes = 0;
    return e.graph(inputs);
  }
  uint64_t epoch = graph::state_epoch();
  t_naming_module = s.module;
  Graph g;
  try {
    g = trace(s.fn, inputs, s.options);
  } catch (...) {
    t_naming_module = nullptr;
    throw;
  }
  t_naming_module = nullptr;
  ++s.stats.traces;
  s.stats.last_compile_ms = g.compile_ms();
  s.stats.shards = 1;
  s.stats.shard_arena_bytes = 0;
  std::vector<Tensor> result = std::move(g.impl()->traced_outputs);
  // State created during the trace (optimizer buffers) means the next call differs: keep only
  // graphs traced against settled state.
  if (graph::state_epoch() == epoch) {
    s.cache.push_front(State::Entry{key, std::move(g), nullptr, false});
    while (s.cache.size() > s.options.max_cache_size) s.cache.pop_back();
    s.last = &s.cache.front().graph;
  }
  s.stats.cache_size = s.cache.size();
  return result;
}

Tensor CompiledFunction::operator()(const Tensor& x) { return (*this)(std::vector<Tensor>{x}).at(0); }
Tensor CompiledFunction::operator()(const Tensor& x, const Tensor& y) {
  return (*this)(std::vector<Tensor>{x, y}).at(0);
}
CompiledFunction::Stats CompiledFunction::stats() const {
  Stats st = state_->stats;
  st.cache_size = state_->cache.size();
  return st;
}
const Graph* CompiledFunction::last_graph() const { return state_->last; }

CompiledFunction compile_fn(Fn fn, const CompileOptions& options) {
  return CompiledFunction(std::move(fn), options);
}

CompiledFunction compile(nn::Module& module, const CompileOptions& options) {
  nn::Module* m = &module;
  return CompiledFunction(
      [m](const std::vector<Tensor>& in) {
        NABLA_CHECK(in.size() == 1, "compile(module): expected one input, got ", in.size());
        NoGradGuard no_grad;
        return std::vector<Tensor>{m->forward(in[0])};
      },
      options, [m] { return std::string(m->is_training() ? "train" : "eval"); }, m);
}

CompiledFunction compile(const std::shared_ptr<nn::Module>& module, const CompileOptions& options) {
  NABLA_CHECK(module != nullptr, "compile: the module is null");
  std::shared_ptr<nn::Module> m = module;  // kept alive by the compiled function
  return CompiledFunction(
      [m](const std::vector<Tensor>& in) {
        NABLA_CHECK(in.size() == 1, "compile(module): expected one input, got ", in.size());
        NoGradGuard no_grad;
        return std::vector<Tensor>{m->forward(in[0])};
      },
      options, [m] { return std::string(m->is_training() ? "train" : "eval"); }, m.get());
}

CompiledFunction compile_train_step(nn::Module& model, LossFn loss_fn, optim::Optimizer& optimizer,
                                    const CompileOptions& options) {
  nn::Module* m = &model;
  optim::Optimizer* opt = &optimizer;
  CompiledFunction f(
      [m, opt, loss_fn](const std::vector<Tensor>& in) {
        NABLA_CHECK(in.size() == 2, "compile_train_step: expected (input, target), got ", in.size(),
                    " tensors");
        opt->zero_grad();
        Tensor out = m->forward(in[0]);
        Tensor loss = loss_fn(out, in[1]);
        loss.backward();
        opt->step();
        return std::vector<Tensor>{loss.detach(), out.detach()};
      },
      options, [m] { return std::string(m->is_training() ? "train" : "eval"); }, m);
  if (options.batch_shards != 1)
    f.state_->make_sharded = [m, opt, loss_fn, options](const Graph& full, const std::vector<Tensor>& in,
                                                        std::vector<Tensor>& result) {
      return detail::ShardedTrainStep::build(*m, loss_fn, *opt, detail::optimized_graph(full),
                                             full.arena_bytes(), in, options, result);
    };
  return f;
}

}  // namespace nabla::jit
