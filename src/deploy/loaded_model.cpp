// LoadedModel: a validated bundle plus one executor per batch size seen (built on first use,
// a few kept). Reading bundle.json and cross-checking it against the graph is here too.
#include "nabla/deploy/loaded_model.h"

#include <chrono>
#include <list>
#include <map>
#include <nlohmann/json.hpp>

#include "deploy/bundle.h"
#include "deploy/graph_json.h"
#include "graph/executor.h"
#include "nabla/io/atomic_file.h"

namespace nabla {

struct LoadedModel::Impl {
  std::string dir;
  deploy::SymbolicGraph graph;
  Signature signature;
  std::map<std::string, std::string> metadata;
  // Executors for the most recently used batch sizes (each holds its planned arena).
  std::list<std::pair<int64_t, std::shared_ptr<graph::Executor>>> executors;
  static constexpr size_t kMaxExecutors = 4;

  graph::Executor& executor(int64_t batch) {
    for (auto it = executors.begin(); it != executors.end(); ++it)
      if (it->first == batch) {
        executors.splice(executors.begin(), executors, it);
        return *executors.front().second;
      }
    executors.emplace_front(batch, std::make_shared<graph::Executor>(graph.specialize(batch, dir)));
    if (executors.size() > kMaxExecutors) executors.pop_back();
    return *executors.front().second;
  }
};

LoadedModel::LoadedModel() = default;
LoadedModel::~LoadedModel() = default;
LoadedModel::LoadedModel(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
LoadedModel::LoadedModel(LoadedModel&&) noexcept = default;
LoadedModel& LoadedModel::operator=(LoadedModel&&) noexcept = default;
// A copy shares the (immutable) graph and weights but gets its own executors.
LoadedModel::LoadedModel(const LoadedModel& o) : impl_(o.impl_ ? std::make_shared<Impl>(*o.impl_) : nullptr) {
  if (impl_) impl_->executors.clear();
}
LoadedModel& LoadedModel::operator=(const LoadedModel& o) {
  if (this != &o) *this = LoadedModel(o);
  return *this;
}

std::vector<Tensor> LoadedModel::run(const std::vector<Tensor>& inputs) {
  NABLA_CHECK(impl_, "LoadedModel: empty (use nabla::load_model)");
  const Signature& sig = impl_->signature;
  NABLA_CHECK(inputs.size() == sig.inputs.size(), impl_->dir, ": expected ", sig.inputs.size(),
              " inputs, got ", inputs.size());
  int64_t batch = -1;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const TensorSpec& spec = sig.inputs[k];
    const Tensor& x = inputs[k];
    NABLA_CHECK(x.defined(), impl_->dir, ": input ", k, " ('", spec.name, "') is undefined");
    NABLA_CHECK(x.dtype() == spec.dtype && x.dim() == static_cast<int64_t>(spec.shape.size()), impl_->dir,
                ": input ", k, " ('", spec.name, "') must be ", dtype_name(spec.dtype), " with ",
                spec.shape.size(), " dims, got ", dtype_name(x.dtype()), " of shape ", x.shape());
    if (!spec.shape.empty() && spec.shape[0] == -1) {
      NABLA_CHECK(batch < 0 || x.shape()[0] == batch, impl_->dir, ": inputs disagree on the batch size (",
                  batch, " and ", x.shape()[0], ")");
      batch = x.shape()[0];
    }
    for (size_t d = 0; d < spec.shape.size(); ++d)
      NABLA_CHECK(spec.shape[d] == -1 || spec.shape[d] == x.shape()[d], impl_->dir, ": input ", k, " ('",
                  spec.name, "') must have shape ", Shape(spec.shape), " (-1: batch), got ", x.shape());
  }
  if (!sig.symbolic_batch) batch = sig.fixed_batch;
  if (batch < 0) batch = 1;
  return impl_->executor(batch).run(inputs);
}

Tensor LoadedModel::operator()(const Tensor& x) { return run({x}).at(0); }

const Signature& LoadedModel::signature() const { return impl_->signature; }
const std::map<std::string, std::string>& LoadedModel::metadata() const { return impl_->metadata; }
const std::string& LoadedModel::path() const { return impl_->dir; }

int64_t LoadedModel::num_parameters() const {
  int64_t n = 0;
  for (const auto& v : impl_->graph.graph.values)
    if (v.kind == graph::ValueKind::kParam) n += v.tensor.numel();
  return n;
}

std::vector<std::pair<std::string, int>> LoadedModel::op_counts() const {
  std::map<std::string, int> counts;
  for (const auto& n : impl_->graph.graph.nodes) {
    ++counts[ops::op_name(n.op)];
    for (const auto& e : n.epilogue) ++counts[ops::op_name(e.first)];
  }
  return {counts.begin(), counts.end()};
}

std::string LoadedModel::dump(int64_t batch) const {
  return impl_->graph
      .specialize(impl_->signature.symbolic_batch ? batch : impl_->signature.fixed_batch, impl_->dir)
      .dump();
}

namespace deploy {
namespace {

using json = nlohmann::json;

std::vector<TensorSpec> specs_from_json(const json& arr, const std::string& what, const char* which) {
  NABLA_CHECK(arr.is_array(), what, ": signature.", which, " must be an array");
  std::vector<TensorSpec> out;
  for (const json& s : arr) {
    NABLA_CHECK(s.is_object() && s.size() == 3 && s.contains("name") && s["name"].is_string() &&
                    s.contains("dtype") && s["dtype"].is_string() && s.contains("shape") &&
                    s["shape"].is_array(),
                what, ": signature.", which, " entries are {\"name\", \"dtype\", \"shape\"}, got ", s.dump());
    TensorSpec spec;
    spec.name = s["name"].get<std::string>();
    spec.dtype = dtype_from_name(s["dtype"].get<std::string>(), what);
    NABLA_CHECK(s["shape"].size() <= kMaxDims, what, ": signature shape of '", spec.name,
                "' has too many dims");
    for (const json& d : s["shape"]) {
      NABLA_CHECK(d.is_number_integer() && d.get<int64_t>() >= -1, what, ": signature shape of '", spec.name,
                  "' has a bad size ", d.dump(), " (sizes are >= 0, or -1 for the batch)");
      spec.shape.push_back(d.get<int64_t>());
    }
    out.push_back(std::move(spec));
  }
  return out;
}

// The signature the graph implies for one value: -1 where the size follows the batch.
void check_spec(const TensorSpec& spec, const SymbolicGraph& g, int id, const std::string& what) {
  const graph::Value& v = g.graph.values[id];
  NABLA_CHECK(spec.dtype == v.dtype && spec.shape.size() == static_cast<size_t>(v.shape.size()), what,
              ": signature entry '", spec.name, "' (", dtype_name(spec.dtype), Shape(spec.shape),
              ") does not match the graph's ", graph::value_type_str(v));
  for (size_t d = 0; d < spec.shape.size(); ++d) {
    const bool sym =
        id < static_cast<int>(g.value_slope.size()) && !g.value_slope[id].empty() && g.value_slope[id][d];
    NABLA_CHECK(sym ? spec.shape[d] == -1 : spec.shape[d] == v.shape[d], what, ": signature entry '",
                spec.name, "' has size ", spec.shape[d], " at dim ", d, " but the graph has ",
                sym ? std::string("the batch size") : std::to_string(v.shape[d]));
  }
}

}  // namespace

LoadedModel load_bundle(const std::string& bundle_json, const std::string& graph_json,
                        io::SafetensorsFile weights, const std::string& dir) {
  const std::string what_bundle = dir + "/" + kBundleJson;
  json b;
  try {
    b = json::parse(bundle_json, [&](int depth, json::parse_event_t, json&) {
      NABLA_CHECK(depth <= 5, what_bundle, ": the JSON nests deeper than the format allows");
      return true;
    });
  } catch (const json::exception& e) {
    detail::throw_error(what_bundle, ": bad JSON: ", e.what());
  }
  NABLA_CHECK(b.is_object() && b.contains("format") && b["format"] == "nabla.bundle", what_bundle,
              ": not a nabla bundle (\"format\" must be \"nabla.bundle\")");
  NABLA_CHECK(b.contains("version") && b["version"] == 1, what_bundle, ": unsupported bundle version ",
              b.contains("version") ? b["version"].dump() : "(none)", " (this nabla reads version 1)");
  for (const auto& [key, val] : b.items())
    NABLA_CHECK(
        key == "format" || key == "version" || key == "signature" || key == "metadata" || key == "files",
        what_bundle, ": unknown key \"", key, "\"");
  NABLA_CHECK(b.contains("signature") && b["signature"].is_object(), what_bundle,
              ": needs a \"signature\" object");
  const json& js = b["signature"];
  for (const auto& [key, val] : js.items())
    NABLA_CHECK(key == "inputs" || key == "outputs" || key == "batch", what_bundle, ": unknown key \"", key,
                "\" in signature");
  NABLA_CHECK(js.contains("inputs") && js.contains("outputs"), what_bundle,
              ": signature needs inputs and outputs");
  auto impl = std::make_shared<LoadedModel::Impl>();
  impl->dir = dir;
  impl->signature.inputs = specs_from_json(js["inputs"], what_bundle, "inputs");
  impl->signature.outputs = specs_from_json(js["outputs"], what_bundle, "outputs");
  if (b.contains("metadata")) {
    NABLA_CHECK(b["metadata"].is_object(), what_bundle, ": metadata must be an object of strings");
    for (const auto& [key, val] : b["metadata"].items()) {
      NABLA_CHECK(val.is_string(), what_bundle, ": metadata \"", key, "\" must be a string");
      impl->metadata[key] = val.get<std::string>();
    }
  }
  impl->graph = graph_from_json(graph_json, weights.tensors, dir + "/" + kGraphJson);
  const SymbolicGraph& g = impl->graph;
  // Checks every shape rule once now (batch 1, or the fixed batch), so a bad bundle fails at load.
  (void)g.specialize(g.symbolic ? 1 : g.fixed_batch, dir + "/" + kGraphJson);
  impl->signature.symbolic_batch = g.symbolic;
  impl->signature.fixed_batch = g.fixed_batch;
  NABLA_CHECK(impl->signature.inputs.size() == g.graph.inputs.size() &&
                  impl->signature.outputs.size() == g.graph.outputs.size(),
              what_bundle, ": the signature has ", impl->signature.inputs.size(), " inputs and ",
              impl->signature.outputs.size(), " outputs, the graph ", g.graph.inputs.size(), " and ",
              g.graph.outputs.size());
  for (size_t k = 0; k < g.graph.inputs.size(); ++k)
    check_spec(impl->signature.inputs[k], g, g.graph.inputs[k], what_bundle);
  for (size_t k = 0; k < g.graph.outputs.size(); ++k)
    check_spec(impl->signature.outputs[k], g, g.graph.outputs[k], what_bundle);
  for (const TensorSpec& s : impl->signature.inputs)
    NABLA_CHECK(!g.symbolic || (!s.shape.empty() && s.shape[0] == -1), what_bundle, ": input '", s.name,
                "' must have the symbolic batch (-1) as its first dim in a symbolic-batch bundle");
  return LoadedModel(std::move(impl));
}

}  // namespace deploy

LoadedModel load_model(const std::string& dir) {
  std::string bundle_json = io::read_file(dir + "/" + deploy::kBundleJson);
  std::string graph_json = io::read_file(dir + "/" + deploy::kGraphJson);
  io::SafetensorsFile weights = io::load_safetensors(dir + "/" + deploy::kWeightsFile);
  return deploy::load_bundle(bundle_json, graph_json, std::move(weights), dir);
}

}  // namespace nabla
