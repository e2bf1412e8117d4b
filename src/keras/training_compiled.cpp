// Keras graph mode: unless compile got run_eagerly = true, fit's training step, evaluate's step and
// predict run as compiled graphs (nabla::jit), over the same forward_losses() the eager step uses.
//
// The compiled train step is zero_grad / forward / loss / backward / optimizer.step() traced into one
// graph (like jit::compile_train_step); its outputs are the loss, each output's loss and the
// predictions, from which the host updates the loss trackers and metrics exactly as the eager step
// does. Everything the graph reads from outside (parameters, BatchNorm statistics, optimizer state,
// the learning rate in the optimizer's hyper-parameter tensor, refreshed by a host call before each
// run) is captured by reference, so set_weights, restore_best_weights and LR callbacks act on the
// next compiled step. A new batch shape (the last partial batch) or sample weights trace a second
// graph (the cache keys on input shapes).
//
// What a graph cannot express (Adagrad updates; random draws other than rand from the default
// generator, which is a graph op, so Dropout compiles; reading
// a tensor value on the host) throws jit::UntraceableError while tracing; the model then runs
// eagerly from that step on, with BatchNorm statistics restored to their values before the failed
// trace (the trace runs the step eagerly up to the failure), so results equal the eager run. verbose
// fit says why once; eager_reason() tells tests and users.
#include <cstdio>

#include "graph/trace.h"
#include "nabla/autograd.h"
#include "nabla/jit.h"
#include "nabla/keras/model.h"

namespace nabla::keras {

struct Model::Compiled {
  std::optional<jit::CompiledFunction> train, test, predict;
  std::string eager_reason;  // set once graph mode was given up

  // A step graph's outputs: the total loss, each output's loss (only when there are several), then
  // the predictions. to_outputs packs them (detached for the train step, whose graph also
  // differentiates them); from_outputs unpacks them for the host-side trackers and metrics.
  static std::vector<Tensor> to_outputs(const LossParts& parts, bool detach) {
    auto d = [detach](const Tensor& t) { return detach ? t.detach() : t; };
    std::vector<Tensor> out{d(parts.total)};
    if (parts.per_output.size() > 1)
      for (auto& l : parts.per_output) out.push_back(d(l));
    for (auto& p : parts.preds) out.push_back(d(p));
    return out;
  }
  static LossParts from_outputs(const std::vector<Tensor>& out, size_t n_out) {
    LossParts parts;
    parts.total = out[0];
    size_t k = 1;
    if (n_out > 1)
      for (size_t i = 0; i < n_out; ++i) parts.per_output.push_back(out[k++]);
    for (size_t i = 0; i < n_out; ++i) parts.preds.push_back(out[k++]);
    return parts;
  }
};

const std::string& Model::eager_reason() const {
  static const std::string none;
  return compiled_steps_.p ? compiled_steps_.p->eager_reason : none;
}

int64_t Model::compiled_graph_runs() const {
  if (!compiled_steps_.p) return 0;
  int64_t n = 0;
  for (const auto* f : {&compiled_steps_.p->train, &compiled_steps_.p->test, &compiled_steps_.p->predict})
    if (f->has_value()) n += (*f)->stats().graph_runs;
  return n;
}

namespace {

/// Copies of the module's buffers (BatchNorm statistics), taken with tracing paused.
std::vector<std::pair<Tensor, Tensor>> snapshot_buffers(nn::Module& m) {
  graph::TraceScope pause(nullptr);
  NoGradGuard no_grad;
  std::vector<std::pair<Tensor, Tensor>> saved;
  for (const Tensor& b : m.buffers())
    if (b.defined()) saved.emplace_back(b, b.clone());
  return saved;
}

void restore_buffers(const std::vector<std::pair<Tensor, Tensor>>& saved) {
  graph::TraceScope pause(nullptr);
  NoGradGuard no_grad;
  for (const auto& [b, copy] : saved) Tensor(b).copy_(copy);
}

/// in = x..., y..., [sw]
struct Split {
  std::vector<Tensor> x, y;
  Tensor sw;
};
Split split(const std::vector<Tensor>& in, size_t nx, size_t ny) {
  Split s;
  s.x.assign(in.begin(), in.begin() + nx);
  s.y.assign(in.begin() + nx, in.begin() + nx + ny);
  if (in.size() > nx + ny) s.sw = in[nx + ny];
  return s;
}

std::vector<Tensor> pack(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw) {
  std::vector<Tensor> in = x;
  in.insert(in.end(), y.begin(), y.end());
  if (sw.defined()) in.push_back(sw);
  return in;
}

}  // namespace

Model::Compiled* Model::compiled_steps() {
  if (compile_options_.run_eagerly) return nullptr;
  if (!compiled_steps_.p) compiled_steps_.p = std::make_shared<Compiled>();
  Compiled* c = compiled_steps_.p.get();
  return c->eager_reason.empty() ? c : nullptr;
}

namespace {
/// Runs f(inputs); on UntraceableError records why and returns false (the caller runs eagerly).
template <typename Call>
bool run_or_fall_back(std::string& reason, int verbose, const char* what, Call&& call) {
  try {
    call();
    return true;
  } catch (const jit::UntraceableError& e) {
    reason = e.what();
    if (verbose)
      std::printf("%s: this model cannot run as a compiled graph, running eagerly instead: %s\n", what,
                  e.what()),
          std::fflush(stdout);
    return false;
  }
}
}  // namespace

bool Model::compiled_train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw,
                                double& loss) {
  Compiled* c = compiled_steps();
  if (!c) return false;
  const size_t nx = x.size(), ny = y.size(), n_out = losses_.size();
  if (!c->train) {
    c->train.emplace(
        [this, nx, ny](const std::vector<Tensor>& in) {
          Split s = split(in, nx, ny);
          auto saved = snapshot_buffers(*this);
          try {
            optimizer_->zero_grad();
            LossParts parts = forward_losses(s.x, s.y, s.sw);
            parts.total.backward();
            optimizer_->step();
            return Compiled::to_outputs(parts, /*detach=*/true);
          } catch (const jit::UntraceableError&) {
            restore_buffers(saved);
            throw;
          }
        },
        jit::CompileOptions{}, [this] { return std::string(is_training() ? "train" : "eval"); }, this);
  }
  std::vector<Tensor> out;
  if (!run_or_fall_back(c->eager_reason, verbose_, "fit", [&] { out = (*c->train)(pack(x, y, sw)); }))
    return false;
  LossParts parts = Compiled::from_outputs(out, n_out);
  loss = track(parts, y, sw, x[0].size(0));
  return true;
}

bool Model::compiled_test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw) {
  Compiled* c = compiled_steps();
  if (!c) return false;
  const size_t nx = x.size(), ny = y.size(), n_out = losses_.size();
  if (!c->test) {
    c->test.emplace(
        [this, nx, ny](const std::vector<Tensor>& in) {
          Split s = split(in, nx, ny);
          NoGradGuard no_grad;
          LossParts parts = forward_losses(s.x, s.y, s.sw);
          return Compiled::to_outputs(parts, /*detach=*/false);
        },
        jit::CompileOptions{}, [this] { return std::string(is_training() ? "train" : "eval"); }, this);
  }
  std::vector<Tensor> out;
  if (!run_or_fall_back(c->eager_reason, verbose_, "evaluate", [&] { out = (*c->test)(pack(x, y, sw)); }))
    return false;
  LossParts parts = Compiled::from_outputs(out, n_out);
  track(parts, y, sw, x[0].size(0));
  return true;
}

std::vector<Tensor> Model::compiled_predict(const std::vector<Tensor>& x) {
  Compiled* c = compiled_steps();
  if (!c) return {};
  if (!c->predict) {
    c->predict.emplace(
        [this](const std::vector<Tensor>& in) {
          NoGradGuard no_grad;
          std::vector<Tensor> out;
          for (auto& f : run(in, {})) out.push_back(channels_last(f).contiguous());
          return out;
        },
        jit::CompileOptions{}, [this] { return std::string(is_training() ? "train" : "eval"); }, this);
  }
  std::vector<Tensor> out;
  if (!run_or_fall_back(c->eager_reason, verbose_, "predict", [&] { out = (*c->predict)(x); })) return {};
  return out;
}

}  // namespace nabla::keras
