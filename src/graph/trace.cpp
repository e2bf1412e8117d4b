// The tracer behind jit::trace / jit::compile (see trace.h).
#include "graph/trace.h"

#include <atomic>
#include <sstream>

#include "nabla/autograd.h"
#include "nabla/jit.h"
#include "ops/workspace.h"

namespace nabla::graph {

constinit thread_local Tracer* t_active_tracer = nullptr;

namespace {
std::atomic<uint64_t> g_state_epoch{0};
thread_local int t_allow_reads = 0;
}  // namespace

uint64_t state_epoch() { return g_state_epoch.load(std::memory_order_relaxed); }
void bump_state_epoch() { g_state_epoch.fetch_add(1, std::memory_order_relaxed); }

void Tracer::bind(const Tensor& t, int v) {
  current_[t.impl().get()] = v;
  keep_.push_back(t);
  if (t.impl()->storage) by_storage_[t.impl()->storage.get()].push_back(t.impl().get());
}

int Tracer::value_of(const Tensor& t) {
  auto it = current_.find(t.impl().get());
  if (it != current_.end()) return it->second;
  const detail::TensorImpl& ti = *t.impl();
  if (ti.storage && ti.storage->nbytes > 0) {
    auto s = by_storage_.find(ti.storage.get());
    if (s != by_storage_.end()) {
      for (auto k = s->second.rbegin(); k != s->second.rend(); ++k) {
        const detail::TensorImpl& o = **k;
        if (o.shape == ti.shape && o.strides == ti.strides && o.offset == ti.offset && o.dtype == ti.dtype) {
          int v = current_.at(*k);
          auto c = captured_.find(*k);
          if (c != captured_.end()) captured_[&ti] = c->second;
          bind(t, v);
          return v;
        }
      }
      NABLA_CHECK(false,
                  "jit::trace: a tensor made outside the op dispatch aliases a traced tensor with another "
                  "layout (shape ",
                  ti.shape, "); it cannot be traced (use view ops: reshape, permute, slice)");
    }
  }
  Value v;
  v.kind = ValueKind::kParam;
  v.dtype = t.dtype();
  v.shape = t.shape();
  v.device = t.device();
  v.tensor = t;
  int id = graph.add_value(std::move(v));
  captured_[t.impl().get()] = id;
  bind(t, id);
  return id;
}

void Tracer::alias(const Tensor& t, const Tensor& of) {
  auto it = current_.find(of.impl().get());
  if (it == current_.end()) return;
  bind(t, it->second);
  auto c = captured_.find(of.impl().get());
  if (c != captured_.end()) captured_[t.impl().get()] = c->second;
}

int Tracer::add_input(const Tensor& t) {
  NABLA_CHECK(t.defined(), "jit::trace: example input ", graph.inputs.size(), " is undefined");
  NABLA_CHECK(!current_.count(t.impl().get()), "jit::trace: the same tensor is passed twice as an input");
  Value v;
  v.kind = ValueKind::kInput;
  v.dtype = t.dtype();
  v.shape = t.shape();
  v.device = t.device();
  v.symbolic_batch = t.dim() >= 1;
  v.contiguous = t.is_contiguous();
  v.input_index = static_cast<int>(graph.inputs.size());
  int id = graph.add_value(std::move(v));
  graph.inputs.push_back(id);
  bind(t, id);
  return id;
}

void Tracer::record(ops::OpId id, const Tensor* in, int n, const ops::Attrs& attrs, const Tensor* out,
                    const ops::TensorMeta* metas, int num_outputs) {
  std::vector<int> ins(n);
  int64_t batch = -1;
  for (int i = 0; i < n; ++i) {
    ins[i] = value_of(in[i]);
    const Value& v = graph.values[ins[i]];
    if (v.symbolic_batch) batch = v.shape[0];
  }
  int node = graph.add_node(id, attrs, std::move(ins), metas, num_outputs, n ? in[0].device() : kCPU);
  graph.nodes[node].workspace = static_cast<int64_t>(ops::ws::take_high());  // the kernel just ran
  for (int j = 0; j < num_outputs; ++j) {
    int v = graph.nodes[node].outputs[j];
    Value& val = graph.values[v];
    // Informational: dim 0 is taken to follow the batch when it has the batch's size.
    val.symbolic_batch = batch >= 0 && val.shape.size() >= 1 && val.shape[0] == batch;
    bind(out[j], v);
  }
}

void Tracer::before_write(const Tensor& t) {
  NABLA_CHECK(!t.impl()->is_view || !current_.count(t.impl().get()) || captured_.count(t.impl().get()),
              "jit::trace: an in-place write into a view of a traced tensor cannot be traced; use the "
              "out-of-place op");
  int v = value_of(t);
  auto c = captured_.find(t.impl().get());
  if (c != captured_.end() && !snapshot_.count(v) && graph.values[v].kind == ValueKind::kParam) {
    TraceScope off(nullptr);
    NoGradGuard no_grad;
    snapshot_[v] = t.detach().clone();
  }
}

void Tracer::rebind(const Tensor& t, int v) {
  const detail::TensorImpl* impl = t.impl().get();
  if (graph.values[v].dtype != t.dtype()) {
    ops::Attrs a;
    a.dtype = t.dtype();
    ops::TensorMeta m{t.shape(), t.dtype()};
    int node = graph.add_node(ops::OpId::copy, a, {v}, &m, 1, t.device());
    v = graph.nodes[node].outputs[0];
  }
  current_[impl] = v;
  auto c = captured_.find(impl);
  if (c == captured_.end()) return;
  for (auto& u : graph.updates)
    if (u.target == c->second) {
      u.source = v;
      return;
    }
  graph.updates.push_back({c->second, v});
}

void Tracer::finish(const std::vector<Tensor>& outputs) {
  for (const Tensor& t : outputs) {
    NABLA_CHECK(t.defined(), "jit::trace: the traced function returned an undefined tensor");
    auto it = current_.find(t.impl().get());
    // A returned tensor the trace never saw is a constant of the function (or an input passed through).
    graph.outputs.push_back(it != current_.end() ? it->second : value_of(t));
  }
  current_.clear();
  keep_.clear();
  by_storage_.clear();
  // A capture that only the graph (and its snapshot) still holds cannot be changed from outside:
  // it is a constant, taken with the value it had before any write of the trace.
  std::vector<bool> is_const(graph.values.size(), false);
  for (auto& [impl, id] : captured_) {
    Value& v = graph.values[id];
    auto snap = snapshot_.find(id);
    if (v.tensor.impl().use_count() == 1 && v.tensor.impl()->storage.use_count() == 1) {
      v.kind = ValueKind::kConstant;
      if (snap != snapshot_.end()) v.tensor = snap->second;
      is_const[id] = true;
    }
  }
  std::erase_if(graph.updates, [&](const Update& u) { return is_const[u.target]; });
  captured_.clear();
  snapshot_.clear();
}

void check_value_read(const detail::TensorImpl* impl, const char* who) {
  Tracer* t = t_active_tracer;
  if (!t || t_allow_reads || !t->knows(impl)) return;
  std::ostringstream os;
  os << who
     << ": reading a tensor's value inside jit::trace / jit::compile would freeze this one value "
        "into the graph (data-dependent control flow is not traced). Compute with tensor ops "
        "instead (where, clamp, ...), or read the value outside the compiled function";
  throw jit::UntraceableError(os.str());
}

AllowValueReads::AllowValueReads() { ++t_allow_reads; }
AllowValueReads::~AllowValueReads() { --t_allow_reads; }

void check_not_tracing(const char* who, const char* why) {
  if (!t_active_tracer) return;
  throw jit::UntraceableError(std::string(who) + " cannot be traced by jit::trace / jit::compile: " + why);
}

}  // namespace nabla::graph
