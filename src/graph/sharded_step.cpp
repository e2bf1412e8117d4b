// The data-parallel schedule of a compiled training step: see sharded_step.h.
#include "graph/sharded_step.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include "backend/cpu/parallel.h"
#include "graph/compiled_access.h"
#include "graph/trace.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/nn/module.h"
#include "nabla/ops.h"
#include "nabla/runtime.h"

namespace nabla::jit::detail {
namespace {

// Elements per reduction work item: fixed (not derived from the thread count), so every element
// is reduced by the same instructions whichever thread takes its chunk.
constexpr int64_t kReduceChunk = 16384;
constexpr int64_t kMaxShards = 64;

bool is_step_op(ops::OpId op) {
  return op == ops::OpId::adam_step || op == ops::OpId::sgd_step || op == ops::OpId::rmsprop_step;
}

/// True when the whole-batch step may be split over samples as far as its graph shows: no random
/// draws (each shard would draw other numbers than the whole batch) and no state written except by
/// an optimizer step op (BatchNorm's running statistics are updated from batch statistics).
bool separable(const graph::Graph& g) {
  for (const auto& n : g.nodes)
    if (n.op == ops::OpId::rand_uniform) return false;
  for (const auto& u : g.updates) {
    const graph::Value& src = g.values[u.source];
    if (src.kind != graph::ValueKind::kNode || !is_step_op(g.nodes[src.node].op)) return false;
  }
  return true;
}

/// Every parameter's .grad, to put back after the build (which runs eager backward passes).
struct SavedGrads {
  std::vector<Tensor> params;
  std::vector<std::shared_ptr<nabla::detail::TensorImpl>> grads;
  explicit SavedGrads(std::vector<Tensor> ps) : params(std::move(ps)) {
    for (const Tensor& p : params) grads.push_back(p.impl()->grad);
  }
  ~SavedGrads() {
    for (size_t i = 0; i < params.size(); ++i) params[i].impl()->grad = grads[i];
  }
};

double scalar_value(const Tensor& t) {
  return t.dtype() == kFloat64 ? *static_cast<const double*>(t.raw_data())
                               : static_cast<double>(*static_cast<const float*>(t.raw_data()));
}

double norm2(const Tensor& t) {
  NoGradGuard no_grad;
  return (t.to(kFloat64) * t.to(kFloat64)).sum().item<double>();
}

}  // namespace

int choose_shards(int64_t batch, int requested) {
  if (batch < 2) return 1;
  int s = requested > 0 ? requested : (batch >= 32 ? 2 : 1);
  return static_cast<int>(std::min<int64_t>({s, batch, kMaxShards}));
}

std::unique_ptr<ShardedTrainStep> ShardedTrainStep::build(
    nn::Module& model, const LossFn& loss_fn, optim::Optimizer& optimizer, const graph::Graph& full,
    const std::vector<Tensor>& inputs, const CompileOptions& options, std::vector<Tensor>& result) {
  if (inputs.size() != 2 || inputs[0].dim() < 1 || inputs[1].dim() < 1) return nullptr;
  const int64_t B = inputs[0].shape()[0];
  if (inputs[1].shape()[0] != B) return nullptr;
  const int S = choose_shards(B, options.batch_shards);
  if (S <= 1 || !separable(full) || !GradMode::is_enabled()) return nullptr;

  std::vector<Tensor> params = optimizer.parameters();
  std::vector<Tensor> everything = model.parameters();
  everything.insert(everything.end(), params.begin(), params.end());
  std::unique_ptr<ShardedTrainStep> st(new ShardedTrainStep);
  std::vector<bool> has_grad;
  {
    SavedGrads saved(everything);  // the traces and the check below run eager backward passes
    // The shard graph: loss, output and gradients of one shard. Grads start undefined so that
    // backward makes fresh tensors (graph values) instead of accumulating into captured ones.
    auto grad_fn = [&](const std::vector<Tensor>& in) {
      for (const Tensor& p : everything) p.impl()->grad.reset();
      Tensor out = model.forward(in[0]);
      Tensor loss = loss_fn(out, in[1]);
      loss.backward();
      std::vector<Tensor> res{loss.detach(), out.detach()};
      for (const Tensor& p : params)
        if (p.grad().defined()) res.push_back(p.grad());
      return res;
    };
    for (int s = 0; s < S; ++s) {
      st->size_.push_back(B / S + (s < B % S ? 1 : 0));
      st->begin_.push_back(s == 0 ? 0 : st->begin_[s - 1] + st->size_[s - 1]);
    }
    try {
      jit::Graph traced[2];  // shard sizes take at most two values
      for (int s = 0; s < S; ++s) {
        int which = st->size_[s] == st->size_[0] ? 0 : 1;
        if (!traced[which].impl()) {
          traced[which] = jit::trace(grad_fn,
                                     {inputs[0].narrow(0, st->begin_[s], st->size_[s]),
                                      inputs[1].narrow(0, st->begin_[s], st->size_[s])},
                                     options);
          if (which == 0)
            for (const Tensor& p : params) has_grad.push_back(p.grad().defined());
          const graph::Graph& g = optimized_graph(traced[which]);
          if (g.outputs.size() != 2 + static_cast<size_t>(std::count(has_grad.begin(), has_grad.end(), true)))
            return nullptr;
          // Shards run concurrently: their graphs must write nothing outside their own arenas.
          if (!g.updates.empty() || num_host_calls(traced[which]) != 0 || !separable(g)) return nullptr;
        }
        st->execs_.push_back(std::make_unique<graph::Executor>(graph::Graph(optimized_graph(traced[which]))));
      }
    } catch (const UntraceableError&) {
      return nullptr;
    }
    // Whole-batch gradients, eagerly, to check the sharded ones against.
    for (const Tensor& p : everything) p.impl()->grad.reset();
    Tensor full_loss = loss_fn(model.forward(inputs[0]), inputs[1]);
    full_loss.backward();
    std::vector<Tensor> full_grads;
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].grad().defined() != has_grad[i]) return nullptr;
      if (has_grad[i]) full_grads.push_back(params[i].grad().detach().clone());
    }

    for (size_t i = 0; i < params.size(); ++i)
      if (has_grad[i]) st->grads_.push_back(empty(params[i].shape(), params[i].dtype()));
    for (int k = 0; k < static_cast<int>(st->grads_.size()); ++k)
      for (int64_t b = 0; b < st->grads_[k].numel(); b += kReduceChunk)
        st->chunks_.push_back({k, b, std::min(st->grads_[k].numel(), b + kReduceChunk)});

    std::vector<std::vector<Tensor>> outs(S);
    st->run_shards(inputs, outs);
    for (int s = 0; s < S; ++s) {  // the output is concatenated along the batch dim
      const Tensor& o = outs[s][1];
      if (o.dim() < 1 || o.shape()[0] != st->size_[s] || o.dtype() != outs[0][1].dtype() ||
          outs[s][0].numel() != 1 || (outs[s][0].dtype() != kFloat32 && outs[s][0].dtype() != kFloat64))
        return nullptr;
      for (size_t k = 0; k < st->grads_.size(); ++k)
        if (outs[s][2 + k].dtype() != st->grads_[k].dtype() ||
            outs[s][2 + k].shape() != st->grads_[k].shape())
          return nullptr;
    }
    // Mean losses weigh shard s by n_s / B, sum losses by 1; anything else is not separable.
    double full_norm = 0;
    for (const Tensor& g : full_grads) full_norm += norm2(g);
    const double loss_ref = full_loss.detach().to(kFloat64).item<double>();
    bool matched = false;
    for (int weighting = 0; weighting < 2 && !matched; ++weighting) {
      st->weight_.clear();
      for (int s = 0; s < S; ++s)
        st->weight_.push_back(weighting == 0 ? double(st->size_[s]) / double(B) : 1.0);
      for (const Chunk& c : st->chunks_) st->reduce_chunk(c, outs);
      double diff = 0, loss = 0;
      for (size_t k = 0; k < full_grads.size(); ++k) diff += norm2(st->grads_[k] - full_grads[k]);
      for (int s = 0; s < S; ++s) loss += st->weight_[s] * scalar_value(outs[s][0]);
      matched = std::sqrt(diff) <= 1e-4 * std::sqrt(full_norm) + 1e-12 &&
                std::abs(loss - loss_ref) <= 1e-4 * std::abs(loss_ref) + 1e-7;
    }
    if (!matched) return nullptr;
    result = st->finish(outs);
  }
  // The update graph: the optimizer step reading the reduced gradients. Tracing runs it eagerly:
  // this call's parameter update.
  const std::vector<bool> mask = has_grad;
  optim::Optimizer* opt = &optimizer;
  std::vector<Tensor> saved_grads;
  for (const Tensor& p : params) saved_grads.push_back(p.grad());
  st->update_ = jit::trace(
      [&](const std::vector<Tensor>& g) {
        size_t k = 0;
        for (size_t i = 0; i < params.size(); ++i) params[i].set_grad(mask[i] ? g[k++] : Tensor());
        opt->step();
        return std::vector<Tensor>{};
      },
      st->grads_, options);
  // The reduced gradient buffers are rewritten by every step: do not leave them as .grad.
  for (size_t i = 0; i < params.size(); ++i) params[i].impl()->grad = saved_grads[i].impl();
  return st;
}

void ShardedTrainStep::run_shards(const std::vector<Tensor>& inputs, std::vector<std::vector<Tensor>>& outs) {
  const int S = shards();
  std::vector<Tensor> xs(S), ys(S);
  for (int s = 0; s < S; ++s) {
    xs[s] = inputs[0].narrow(0, begin_[s], size_[s]);
    ys[s] = inputs[1].narrow(0, begin_[s], size_[s]);
  }
  auto run_one = [&](int s) {
    outs[s] = execs_[s]->run_borrowed({xs[s], ys[s]});
    for (size_t k = 2; k < outs[s].size(); ++k)
      if (!outs[s][k].is_contiguous()) outs[s][k] = outs[s][k].contiguous();
  };
  const int nt = std::min(S, get_num_threads());
  if (nt <= 1 || omp_in_parallel()) {
    for (int s = 0; s < S; ++s) run_one(s);
    return;
  }
  std::exception_ptr err;
  // Each thread runs whole shards; their kernels run serially (parallel_for and the BLAS calls
  // stay on the calling thread inside a parallel region), so there is no per-op synchronisation.
#pragma omp parallel for num_threads(nt) schedule(static, 1)
  for (int s = 0; s < S; ++s) {
    try {
      run_one(s);
    } catch (...) {
#pragma omp critical(nabla_sharded_step)
      if (!err) err = std::current_exception();
    }
  }
  if (err) std::rethrow_exception(err);
}

void ShardedTrainStep::reduce_chunk(const Chunk& c, const std::vector<std::vector<Tensor>>& outs) const {
  const int S = shards();
  const Tensor& dst = grads_[c.param];
  auto body = [&](auto* d) {
    using T = std::remove_pointer_t<decltype(d)>;
    const T* src[kMaxShards];
    T w[kMaxShards];
    for (int s = 0; s < S; ++s) {
      src[s] = static_cast<const T*>(outs[s][2 + c.param].raw_data());
      w[s] = static_cast<T>(weight_[s]);
    }
    for (int64_t e = c.begin; e < c.end; ++e) {
      T acc = w[0] * src[0][e];
      for (int s = 1; s < S; ++s) acc += w[s] * src[s][e];
      d[e] = acc;
    }
  };
  if (dst.dtype() == kFloat64)
    body(static_cast<double*>(dst.raw_data()));
  else
    body(static_cast<float*>(dst.raw_data()));
}

std::vector<Tensor> ShardedTrainStep::finish(std::vector<std::vector<Tensor>>& outs) {
  NoGradGuard no_grad;
  double loss = 0;
  std::vector<Tensor> parts;
  for (int s = 0; s < shards(); ++s) {
    loss += weight_[s] * scalar_value(outs[s][0]);
    parts.push_back(outs[s][1]);
  }
  std::vector<Tensor> result{full(outs[0][0].shape(), loss, TensorOptions(outs[0][0].dtype())),
                             cat(parts, 0)};
  outs.clear();  // the borrowed arena views
  return result;
}

std::vector<Tensor> ShardedTrainStep::run(const std::vector<Tensor>& inputs) {
  std::vector<std::vector<Tensor>> outs(shards());
  run_shards(inputs, outs);
  // Fixed chunks in a fixed per-element order: the same sums at any thread count.
  const int64_t n = static_cast<int64_t>(chunks_.size());
  cpu::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) reduce_chunk(chunks_[k], outs);
  });
  update_(grads_);
  return finish(outs);
}

int64_t ShardedTrainStep::arena_bytes() const {
  int64_t bytes = update_.arena_bytes();
  for (const auto& e : execs_) bytes += e->memory_plan().arena_bytes;
  for (const Tensor& g : grads_) bytes += static_cast<int64_t>(g.nbytes());
  return bytes;
}

}  // namespace nabla::jit::detail
