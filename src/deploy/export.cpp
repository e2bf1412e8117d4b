// nabla::export_model: trace, find the batch-dependent sizes, write and self-check the bundle.
#include "nabla/deploy/export.h"

#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

#include "deploy/bundle.h"
#include "deploy/bundle_writer.h"
#include "deploy/graph_json.h"
#include "graph/compiled_access.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/io/atomic_file.h"
#include "nabla/ops.h"

#ifndef NABLA_VERSION_STRING
#define NABLA_VERSION_STRING "unknown"
#endif

namespace nabla {
namespace {

using deploy::SymbolicGraph;
using json = nlohmann::json;

// Drops values nothing reads or writes (the passes leave dead ones behind) and renumbers the rest
// in order of first use, so a bundle holds exactly the graph that runs.
graph::Graph compact(const graph::Graph& g) {
  graph::Graph out;
  std::vector<int> map(g.values.size(), -1);
  auto keep = [&](int v) {
    if (map[v] < 0) {
      graph::Value val = g.values[v];
      if (val.kind == graph::ValueKind::kInput || val.kind == graph::ValueKind::kNode) val.tensor = Tensor();
      map[v] = out.add_value(std::move(val));
    }
    return map[v];
  };
  for (int i : g.inputs) out.inputs.push_back(keep(i));
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    graph::Node n = g.nodes[k];
    for (int& i : n.inputs) i = keep(i);
    for (int& o : n.outputs) {
      o = keep(o);
      out.values[o].node = static_cast<int>(k);
    }
    out.nodes.push_back(std::move(n));
  }
  for (int o : g.outputs) out.outputs.push_back(keep(o));
  return out;
}

void name_params(graph::Graph& g, const nn::Module& m) {
  auto name_by = [&](const nn::OrderedDict<Tensor>& named) {
    for (const auto& item : named)
      for (auto& v : g.values)
        if (v.kind == graph::ValueKind::kParam && v.name.empty() && v.tensor.defined() &&
            item.second.defined() && v.tensor.impl()->storage == item.second.impl()->storage)
          v.name = item.first;
  };
  name_by(m.named_parameters());
  name_by(m.named_buffers());
}

// The example inputs with `b` rows (rows repeated cyclically): only the shapes matter to the trace.
std::vector<Tensor> resized(const std::vector<Tensor>& xs, int64_t b) {
  std::vector<Tensor> out;
  for (const Tensor& x : xs) {
    const int64_t n = x.shape()[0];
    std::vector<int64_t> idx(b);
    for (int64_t k = 0; k < b; ++k) idx[k] = k % n;
    out.push_back(index_select(x, 0, tensor(idx)).contiguous());
  }
  return out;
}

graph::Graph trace_graph(const jit::Fn& fn, const std::vector<Tensor>& inputs, const nn::Module* module) {
  jit::Graph jg = jit::trace(fn, inputs);
  NABLA_CHECK(jit::detail::num_host_calls(jg) == 0 && jit::detail::optimized_graph(jg).updates.empty(),
              "export_model: the traced function updates state (a training step, or a module in training "
              "mode with BatchNorm): export an inference function (module.eval())");
  graph::Graph g = compact(jit::detail::optimized_graph(jg));
  if (module) name_params(g, *module);
  return g;
}

bool same_structure(const graph::Graph& a, const graph::Graph& b) {
  if (a.values.size() != b.values.size() || a.nodes.size() != b.nodes.size() || a.inputs != b.inputs ||
      a.outputs != b.outputs)
    return false;
  for (size_t v = 0; v < a.values.size(); ++v) {
    const graph::Value &x = a.values[v], &y = b.values[v];
    if (x.kind != y.kind || x.dtype != y.dtype || x.shape.size() != y.shape.size() || x.node != y.node ||
        x.input_index != y.input_index || x.contiguous != y.contiguous)
      return false;
    if (x.kind == graph::ValueKind::kParam && x.tensor.impl() != y.tensor.impl()) return false;
    if (x.kind == graph::ValueKind::kConstant &&
        (x.tensor.shape() != y.tensor.shape() || x.tensor.dtype() != y.tensor.dtype() ||
         !equal(x.tensor, y.tensor)))
      return false;
  }
  for (size_t k = 0; k < a.nodes.size(); ++k) {
    const graph::Node &x = a.nodes[k], &y = b.nodes[k];
    if (x.op != y.op || x.inputs != y.inputs || x.outputs != y.outputs || x.inplace != y.inplace ||
        x.epilogue != y.epilogue || x.attrs.shape.size() != y.attrs.shape.size() ||
        x.attrs.dtype != y.attrs.dtype || std::memcmp(x.attrs.f, y.attrs.f, sizeof x.attrs.f) != 0)
      return false;
  }
  return true;
}

// Fits c + k*N through (b, v[0]), (b+1, v[1]) and checks (b+2, v[2]).
bool fit(const int64_t v[3], int64_t b, int64_t& c, int64_t& k) {
  k = v[1] - v[0];
  c = v[0] - k * b;
  return v[2] == c + k * (b + 2);
}

// The template for any batch size, or nothing when some size is not affine in the batch size.
std::optional<SymbolicGraph> symbolic_from(const graph::Graph* g, int64_t b) {
  if (!same_structure(g[0], g[1]) || !same_structure(g[0], g[2])) return std::nullopt;
  SymbolicGraph sg;
  sg.symbolic = true;
  sg.graph = g[0];
  sg.value_slope.resize(g[0].values.size());
  for (size_t v = 0; v < g[0].values.size(); ++v) {
    graph::Value& val = sg.graph.values[v];
    std::vector<int64_t> slope(val.shape.size());
    bool any = false;
    for (int d = 0; d < val.shape.size(); ++d) {
      int64_t s[3] = {g[0].values[v].shape[d], g[1].values[v].shape[d], g[2].values[v].shape[d]};
      int64_t c, k;
      if (!fit(s, b, c, k)) return std::nullopt;
      val.shape[d] = c;
      slope[d] = k;
      any = any || k;
    }
    if (any) {
      if (val.kind == graph::ValueKind::kParam || val.kind == graph::ValueKind::kConstant)
        return std::nullopt;
      val.symbolic_batch = slope[0] != 0;
      sg.value_slope[v] = std::move(slope);
    }
  }
  sg.attr_slope.resize(g[0].nodes.size());
  for (size_t n = 0; n < g[0].nodes.size(); ++n) {
    ops::Attrs& a = sg.graph.nodes[n].attrs;
    deploy::AttrSlopes& s = sg.attr_slope[n];
    s.shape.resize(a.shape.size());
    for (int d = 0; d < a.shape.size(); ++d) {
      int64_t x[3] = {g[0].nodes[n].attrs.shape[d], g[1].nodes[n].attrs.shape[d],
                      g[2].nodes[n].attrs.shape[d]};
      int64_t c, k;
      if (!fit(x, b, c, k)) return std::nullopt;
      a.shape[d] = c;
      s.shape[d] = k;
    }
    for (int d = 0; d < 16; ++d) {
      int64_t x[3] = {g[0].nodes[n].attrs.i[d], g[1].nodes[n].attrs.i[d], g[2].nodes[n].attrs.i[d]};
      if (!fit(x, b, a.i[d], s.i[d])) return std::nullopt;
    }
    if (!s.any()) s.shape.clear();
  }
  // Every input's first dim must be the batch size itself.
  for (int i : sg.graph.inputs) {
    const auto& sl = sg.value_slope[i];
    if (sl.empty() || sl[0] != 1 || sg.graph.values[i].shape[0] != 0) return std::nullopt;
    for (size_t d = 1; d < sl.size(); ++d)
      if (sl[d]) return std::nullopt;
  }
  return sg;
}

TensorSpec spec_of(const SymbolicGraph& sg, int id, const std::string& name) {
  const graph::Value& v = sg.graph.values[id];
  TensorSpec s{name, v.dtype, {}};
  for (int d = 0; d < v.shape.size(); ++d) {
    const bool sym =
        id < static_cast<int>(sg.value_slope.size()) && !sg.value_slope[id].empty() && sg.value_slope[id][d];
    s.shape.push_back(sym ? -1 : v.shape[d]);
  }
  return s;
}

json spec_json(const TensorSpec& s) {
  return {{"name", s.name}, {"dtype", dtype_name(s.dtype)}, {"shape", s.shape}};
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void export_impl(const jit::Fn& fn, const std::vector<Tensor>& examples, const std::string& dir,
                 const ExportOptions& options, const nn::Module* module) {
  NABLA_CHECK(!examples.empty(), "export_model: no example inputs");
  NABLA_CHECK(!jit::is_tracing(), "export_model: cannot export inside jit::trace");
  bool symbolic = options.symbolic_batch;
  for (const Tensor& x : examples) {
    NABLA_CHECK(x.defined(), "export_model: an example input is undefined");
    if (x.dim() == 0 || x.shape()[0] != examples[0].shape()[0] || x.shape()[0] == 0) symbolic = false;
  }
  NoGradGuard no_grad;
  SymbolicGraph sg;
  bool done = false;
  if (symbolic) {
    // Three batch sizes >= 2 (batch 1 can let the passes drop size-1 work that other sizes need).
    const int64_t b = std::max<int64_t>(examples[0].shape()[0], 2);
    graph::Graph g[3];
    for (int t = 0; t < 3; ++t) g[t] = trace_graph(fn, resized(examples, b + t), module);
    if (auto s = symbolic_from(g, b)) {
      sg = std::move(*s);
      done = true;
    }
  }
  if (!done) {
    sg.graph = trace_graph(fn, examples, module);
    sg.symbolic = false;
    sg.fixed_batch = examples[0].dim() ? examples[0].shape()[0] : 0;
  }
  // Reference outputs for the self-check below (eager, at the example's batch size).
  std::vector<Tensor> expected = fn(examples);
  NABLA_CHECK(expected.size() == sg.graph.outputs.size(), "export_model: the function returned ",
              expected.size(), " tensors, the graph has ", sg.graph.outputs.size(), " outputs");

  Signature sig;
  for (size_t k = 0; k < sg.graph.inputs.size(); ++k)
    sig.inputs.push_back(
        spec_of(sg, sg.graph.inputs[k],
                k < options.input_names.size() ? options.input_names[k] : "input_" + std::to_string(k)));
  for (size_t k = 0; k < sg.graph.outputs.size(); ++k)
    sig.outputs.push_back(
        spec_of(sg, sg.graph.outputs[k],
                k < options.output_names.size() ? options.output_names[k] : "output_" + std::to_string(k)));
  json b;
  b["format"] = "nabla.bundle";
  b["version"] = 1;
  json js;
  js["inputs"] = json::array();
  for (const auto& s : sig.inputs) js["inputs"].push_back(spec_json(s));
  js["outputs"] = json::array();
  for (const auto& s : sig.outputs) js["outputs"].push_back(spec_json(s));
  js["batch"] = sg.symbolic ? json("symbolic") : json(sg.fixed_batch);
  b["signature"] = js;
  json meta = {{"nabla_version", NABLA_VERSION_STRING}, {"created_utc", utc_now()}};
  for (const auto& [k, v] : options.metadata) meta[k] = v;
  b["metadata"] = meta;
  b["files"] = {{"graph", deploy::kGraphJson}, {"weights", deploy::kWeightsFile}};

  nn::OrderedDict<Tensor> weights;
  std::string graph_json = deploy::graph_to_json(sg, weights);
  deploy::BundleDirWriter writer(dir);
  save(weights, writer.file(deploy::kWeightsFile), {{"format", "nabla.bundle"}});
  io::write_file_atomic(writer.file(deploy::kGraphJson), graph_json);
  io::write_file_atomic(writer.file(deploy::kBundleJson), b.dump(1) + "\n");
  // Self-check before the bundle becomes visible: it loads, and reproduces the eager outputs.
  LoadedModel loaded = load_model(writer.temp_dir());
  std::vector<Tensor> got = loaded(examples);
  for (size_t k = 0; k < got.size(); ++k)
    NABLA_CHECK(got[k].shape() == expected[k].shape() && got[k].dtype() == expected[k].dtype() &&
                    (!is_floating(got[k].dtype()) ? equal(got[k], expected[k])
                                                  : allclose(got[k], expected[k], 1e-4, 1e-5)),
                "export_model: ", dir, ": the exported graph's output ", k,
                " differs from the model's (a value-dependent branch in forward?)");
  writer.commit();
}

}  // namespace

void export_model(const jit::Fn& fn, const std::vector<Tensor>& example_inputs, const std::string& dir,
                  const ExportOptions& options) {
  export_impl(fn, example_inputs, dir, options, options.names_from);
}

void export_model(nn::Module& module, const std::vector<Tensor>& example_inputs, const std::string& dir,
                  const ExportOptions& options) {
  NABLA_CHECK(example_inputs.size() == 1, "export_model(module): Module::forward takes one input, got ",
              example_inputs.size(), " examples (export a function for several inputs)");
  const bool was_training = module.is_training();
  module.eval();  // a bundle is for inference: dropout off, BatchNorm on its running statistics
  nn::Module* m = &module;
  try {
    export_impl([m](const std::vector<Tensor>& in) { return std::vector<Tensor>{m->forward(in[0])}; },
                example_inputs, dir, options, m);
  } catch (...) {
    module.train(was_training);
    throw;
  }
  module.train(was_training);
}

}  // namespace nabla
