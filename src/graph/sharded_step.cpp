// The data-parallel schedule of a compiled training step: see sharded_step.h.
#include "graph/sharded_step.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>

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
constexpr int64_t kActivationRatio = 4;

bool is_step_op(ops::OpId op) {
  // weight_grad_adam_step: the weight-gradient GEMM fused with its Adam update (fuse_grad_step.cpp).
  return op == ops::OpId::adam_step || op == ops::OpId::sgd_step || op == ops::OpId::rmsprop_step ||
         op == ops::OpId::weight_grad_adam_step;
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

std::unique_ptr<ShardedTrainStep> ShardedTrainStep::build(nn::Module& model, const LossFn& loss_fn,
                                                          optim::Optimizer& optimizer,
                                                          const graph::Graph& full, int64_t full_arena_bytes,
                                                          const std::vector<Tensor>& inputs,
                                                          const CompileOptions& options,
                                                          std::vector<Tensor>& result) {
  if (inputs.size() != 2 || inputs[0].dim() < 1 || inputs[1].dim() < 1) return nullptr;
  const int64_t B = inputs[0].shape()[0];
  if (inputs[1].shape()[0] != B) return nullptr;
  const int S = choose_shards(B, options.batch_shards);
  if (S <= 1 || !separable(full) || !GradMode::is_enabled()) return nullptr;

  std::vector<Tensor> params = optimizer.parameters();
  if (options.batch_shards == 0) {
    // Auto: shard only when the step's intermediate values (the whole-batch arena) outweigh the
    // parameters kActivationRatio times. Per step the schedule adds a pass over the gradients
    // and moves parameters and gradients between cores (~proportional to parameter bytes); it
    // gains on compute (~proportional to activations). Measured on 2 cores: the seed CNN (arena
    // 7.6x its parameters) gained, the seed MLP (0.96x) loses. Since the conv + pool fusions the
    // seed CNN's arena is 3.7x its parameters and it runs whole-batch by default: 2 shards would
    // be ~7% faster at 2 threads but ~10% slower at 1 (session 6, graph_mode_bench; lowering the
    // ratio to 2 was measured and not kept). Depends on shapes only, never on the thread count.
    int64_t param_bytes = 0;
    for (const Tensor& p : params) param_bytes += static_cast<int64_t>(p.nbytes());
    if (full_arena_bytes < kActivationRatio * param_bytes) return nullptr;
  }
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
        st->shape_of_.push_back(which);
      }
      for (const auto& t : traced)
        if (t.impl()) st->templates_.push_back(optimized_graph(t));
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

    std::vector<std::vector<Tensor>> kept(S);  // every shard's outputs (copies), for the check
    for (int s = 0; s < S; ++s) {
      for (const Tensor& t : st->run_shard(0, s, inputs)) kept[s].push_back(t.clone());
      const Tensor& o = kept[s][1];  // the output is concatenated along the batch dim
      if (o.dim() < 1 || o.shape()[0] != st->size_[s] || o.dtype() != kept[0][1].dtype() ||
          kept[s][0].numel() != 1 || (kept[s][0].dtype() != kFloat32 && kept[s][0].dtype() != kFloat64))
        return nullptr;
      for (size_t k = 0; k < st->grads_.size(); ++k)
        if (kept[s][2 + k].dtype() != st->grads_[k].dtype() ||
            kept[s][2 + k].shape() != st->grads_[k].shape())
          return nullptr;
    }
    st->out_shape_ = kept[0][1].shape();
    st->out_shape_[0] = B;
    st->out_dtype_ = kept[0][1].dtype();
    st->loss_dtype_ = kept[0][0].dtype();
    // Mean losses weigh shard s by n_s / B, sum losses by 1; anything else is not separable.
    double full_norm = 0;
    for (const Tensor& g : full_grads) full_norm += norm2(g);
    const double loss_ref = full_loss.detach().to(kFloat64).item<double>();
    bool matched = false;
    double loss = 0;
    for (int weighting = 0; weighting < 2 && !matched; ++weighting) {
      st->weight_.clear();
      for (int s = 0; s < S; ++s)
        st->weight_.push_back(weighting == 0 ? double(st->size_[s]) / double(B) : 1.0);
      for (const Chunk& c : st->chunks_)
        for (int s = 0; s < S; ++s) st->accumulate(c, s, kept[s][2 + c.param], st->grads_[c.param]);
      double diff = 0;
      loss = 0;
      for (size_t k = 0; k < full_grads.size(); ++k) diff += norm2(st->grads_[k] - full_grads[k]);
      for (int s = 0; s < S; ++s) loss += st->weight_[s] * scalar_value(kept[s][0]);
      matched = std::sqrt(diff) <= 1e-4 * std::sqrt(full_norm) + 1e-12 &&
                std::abs(loss - loss_ref) <= 1e-4 * std::abs(loss_ref) + 1e-7;
    }
    if (!matched) return nullptr;
    NoGradGuard no_grad;
    std::vector<Tensor> parts;
    for (int s = 0; s < S; ++s) parts.push_back(kept[s][1]);
    st->loss_shape_ = kept[0][0].shape();
    result = {nabla::full(st->loss_shape_, loss, TensorOptions(st->loss_dtype_)), cat(parts, 0)};
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
  // Made again when a step needs them (see run): a one-round step at 2+ threads reduces into lane
  // 0's own gradients instead, and keeping a third copy of every gradient would cost memory.
  for (const Tensor& g : st->grads_) st->grad_types_.push_back({g.shape(), g.dtype()});
  st->grads_.clear();
  return st;
}

graph::Executor& ShardedTrainStep::executor(int lane, int s) {
  if (static_cast<int>(lanes_.size()) <= lane) lanes_.resize(lane + 1);
  auto& per_shape = lanes_[lane];
  per_shape.resize(templates_.size());
  auto& e = per_shape[shape_of_[s]];
  if (!e) e = std::make_unique<graph::Executor>(graph::Graph(templates_[shape_of_[s]]));
  return *e;
}

std::vector<Tensor> ShardedTrainStep::run_shard(int lane, int s, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> outs = executor(lane, s).run_borrowed(
      {inputs[0].narrow(0, begin_[s], size_[s]), inputs[1].narrow(0, begin_[s], size_[s])});
  for (size_t k = 1; k < outs.size(); ++k)
    if (!outs[k].is_contiguous()) outs[k] = outs[k].contiguous();
  return outs;
}

void ShardedTrainStep::accumulate(const Chunk& c, int s, const Tensor& g, const Tensor& dst) const {
  auto body = [&](auto* d) {
    using T = std::remove_pointer_t<decltype(d)>;
    T* out = d + c.begin;
    const T* src = static_cast<const T*>(g.raw_data()) + c.begin;
    const T w = static_cast<T>(weight_[s]);
    const int64_t n = c.end - c.begin;
    if (s == 0 && out == src) {
      for (int64_t e = 0; e < n; ++e) out[e] = w * out[e];  // the same product, in place
    } else if (s == 0) {
      for (int64_t e = 0; e < n; ++e) out[e] = w * src[e];
    } else {
      for (int64_t e = 0; e < n; ++e) out[e] += w * src[e];
    }
  };
  if (dst.dtype() == kFloat64)
    body(static_cast<double*>(dst.raw_data()));
  else
    body(static_cast<float*>(dst.raw_data()));
}

std::vector<Tensor> ShardedTrainStep::run(const std::vector<Tensor>& inputs) {
  const int S = shards();
  // Lanes: shards that run at the same time, each on its own executors (arenas). Shard s runs in
  // round s / L on lane s % L; after each round its gradients are added into grads_ in shard
  // order. So every element is w_0 g_0 + w_1 g_1 + ... summed in the same order for any L.
  const int L = omp_in_parallel() ? 1 : std::min(S, get_num_threads());
  for (int s = 0; s < S; ++s) executor(s % L, s);  // made on first use of a lane
  // One round on 2+ lanes: lane 0's gradients stay valid until the update (its arena is not
  // reused this step), so the sum is made in place there, w_0 g_0 + w_1 g_1 + ... with the same
  // per-element formula, and no separate reduced copy is held. Otherwise into grads_.
  const bool in_lane0 = L > 1 && S == L;
  if (!in_lane0 && grads_.empty())
    for (const auto& [shape, dtype] : grad_types_) grads_.push_back(empty(shape, dtype));
  Tensor out = empty(out_shape_, TensorOptions(out_dtype_));
  std::vector<double> losses(S);
  std::vector<std::vector<Tensor>> outs(L);
  const int64_t nc = static_cast<int64_t>(chunks_.size());
  auto run_lane = [&](int r, int l) {
    const int s = r * L + l;
    if (s >= S) return;
    outs[l] = run_shard(l, s, inputs);
    losses[s] = scalar_value(outs[l][0]);
    const Tensor& o = outs[l][1];
    std::memcpy(static_cast<char*>(out.raw_data()) + begin_[s] * (o.nbytes() / size_[s]), o.raw_data(),
                o.nbytes());
  };
  auto reduce = [&](int r, int64_t k) {
    const Chunk& c = chunks_[k];
    const Tensor& dst = in_lane0 ? outs[0][2 + c.param] : grads_[c.param];
    for (int l = 0; l < L && r * L + l < S; ++l) accumulate(c, r * L + l, outs[l][2 + c.param], dst);
  };
  const int rounds = (S + L - 1) / L;
  if (L == 1) {
    for (int r = 0; r < rounds; ++r) {
      run_lane(r, 0);
      for (int64_t k = 0; k < nc; ++k) reduce(r, k);
    }
  } else {
    std::exception_ptr err;
    std::atomic<bool> failed{false};
    // One parallel region per step. Each thread runs whole shards; their kernels run serially
    // (parallel_for and the BLAS calls stay on the calling thread inside a parallel region), so
    // there is no per-op synchronisation. After each round the fixed reduction chunks are shared.
#pragma omp parallel num_threads(L)
    for (int r = 0; r < rounds; ++r) {
#pragma omp for schedule(static, 1)
      for (int l = 0; l < L; ++l) {
        try {
          if (!failed) run_lane(r, l);
        } catch (...) {
          failed = true;
#pragma omp critical(nabla_sharded_step)
          if (!err) err = std::current_exception();
        }
      }
#pragma omp for schedule(dynamic, 1)
      for (int64_t k = 0; k < nc; ++k)
        if (!failed) reduce(r, k);
    }
    if (err) std::rethrow_exception(err);
  }
  if (in_lane0) {
    std::vector<Tensor> reduced(outs[0].begin() + 2, outs[0].end());
    outs.clear();  // borrowed arena views
    update_(reduced);
  } else {
    outs.clear();
    update_(grads_);
  }
  double loss = 0;
  for (int s = 0; s < S; ++s) loss += weight_[s] * losses[s];
  return {full(loss_shape_, loss, TensorOptions(loss_dtype_)), out};
}

int64_t ShardedTrainStep::arena_bytes() const {
  int64_t bytes = update_.arena_bytes();
  for (const auto& lane : lanes_)
    for (const auto& e : lane)
      if (e) bytes += e->memory_plan().arena_bytes;
  for (const Tensor& g : grads_) bytes += static_cast<int64_t>(g.nbytes());
  return bytes;
}

}  // namespace nabla::jit::detail
