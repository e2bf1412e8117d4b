// graph.json writer and validating reader (format in graph_json.h).
#include "deploy/graph_json.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace nabla::deploy {
namespace {

using json = nlohmann::json;

// Deepest legal value: root > nodes > node > epilogue > op > attrs > i > number (7); one to spare.
constexpr int kMaxDepth = 8;

// ---- sizes: c + k*N ----
json dim_to_json(int64_t c, int64_t k) {
  if (k == 0) return c;
  json d = {{"N", k}};
  if (c) d["c"] = c;
  return d;
}

int64_t json_int(const json& j, const std::string& what, const char* field) {
  NABLA_CHECK(j.is_number_integer(), what, ": ", field, " must be an integer, got ", j.dump());
  return j.get<int64_t>();
}

void dim_from_json(const json& j, int64_t& c, int64_t& k, const std::string& what, const char* field) {
  if (j.is_object()) {
    for (const auto& [key, val] : j.items())
      NABLA_CHECK(key == "N" || key == "c", what, ": unknown key \"", key, "\" in a size of ", field);
    NABLA_CHECK(j.contains("N"), what, ": a symbolic size of ", field, " needs \"N\"");
    k = json_int(j["N"], what, field);
    c = j.contains("c") ? json_int(j["c"], what, field) : 0;
  } else {
    c = json_int(j, what, field);
    k = 0;
  }
}

json dims_to_json(const int64_t* c, const int64_t* k, size_t n) {
  json a = json::array();
  for (size_t d = 0; d < n; ++d) a.push_back(dim_to_json(c[d], k ? k[d] : 0));
  return a;
}

const json& array_field(const json& obj, const char* key, const std::string& what, const char* where) {
  static const json empty = json::array();
  if (!obj.contains(key)) return empty;
  const json& a = obj[key];
  NABLA_CHECK(a.is_array(), what, ": \"", key, "\" of ", where, " must be an array");
  return a;
}

std::vector<int> ids(const json& a, const std::string& what, const char* field) {
  std::vector<int> out;
  for (const json& x : a) {
    int64_t v = json_int(x, what, field);
    NABLA_CHECK(v >= -1 && v <= std::numeric_limits<int>::max(), what, ": ", field, " id ", v,
                " out of range");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

void check_keys(const json& obj, std::initializer_list<const char*> allowed, const std::string& what,
                const std::string& where) {
  NABLA_CHECK(obj.is_object(), what, ": ", where, " must be a JSON object");
  for (const auto& [key, val] : obj.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    NABLA_CHECK(ok, what, ": unknown key \"", key, "\" in ", where);
  }
}

std::string str_field(const json& obj, const char* key, const std::string& what, const std::string& where) {
  NABLA_CHECK(obj.contains(key) && obj[key].is_string(), what, ": ", where, " needs a string \"", key, "\"");
  return obj[key].get<std::string>();
}

// ---- attrs ----
// Subnormals are written as their bit pattern ("0x..."): nabla flushes denormals (FTZ/DAZ), under
// which printing and parsing them as decimals would not round-trip.
json double_to_json(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);  // bit tests: under DAZ a subnormal compares equal to 0
  if ((bits & 0x7ff0000000000000ull) == 0 && (bits & 0x000fffffffffffffull) != 0) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(bits));
    return buf;
  }
  return x;
}
double double_from_json(const json& j, const std::string& what) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s == "nan") return std::nan("");
    if (s == "inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
    if (s.size() == 18 && s.compare(0, 2, "0x") == 0 &&
        s.find_first_not_of("0123456789abcdef", 2) == std::string::npos) {
      uint64_t bits = std::stoull(s.substr(2), nullptr, 16);
      double x;
      std::memcpy(&x, &bits, sizeof x);
      return x;
    }
  }
  detail::throw_error(what, ": a float attribute must be a number, \"inf\", \"-inf\" or \"nan\", got ",
                      j.dump());
}

json attrs_to_json(const ops::Attrs& a, const AttrSlopes* s) {
  json j = json::object();
  std::vector<int64_t> shape(a.shape.begin(), a.shape.end());
  if (!shape.empty() || (s && !s->shape.empty()))
    j["shape"] = dims_to_json(shape.data(), s && !s->shape.empty() ? s->shape.data() : nullptr, shape.size());
  int last = -1;
  for (int k = 0; k < 16; ++k)
    if (a.i[k] || (s && s->i[k])) last = k;
  if (last >= 0) j["i"] = dims_to_json(a.i, s ? s->i.data() : nullptr, static_cast<size_t>(last + 1));
  if (std::memcmp(a.f, ops::Attrs{}.f, sizeof a.f) != 0)
    j["f"] = {double_to_json(a.f[0]), double_to_json(a.f[1])};
  if (a.dtype != kFloat32) j["dtype"] = dtype_name(a.dtype);
  return j;
}

ops::Attrs attrs_from_json(const json& j, AttrSlopes* s, const std::string& what) {
  check_keys(j, {"shape", "i", "f", "dtype"}, what, "attrs");
  ops::Attrs a;
  const json& shape = array_field(j, "shape", what, "attrs");
  NABLA_CHECK(shape.size() <= kMaxDims, what, ": attrs shape has ", shape.size(), " entries (max ", kMaxDims,
              ")");
  std::vector<int64_t> c(shape.size()), k(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) dim_from_json(shape[d], c[d], k[d], what, "attrs.shape");
  a.shape = Shape(c);
  if (s) s->shape = std::move(k);
  const json& ints = array_field(j, "i", what, "attrs");
  NABLA_CHECK(ints.size() <= 16, what, ": attrs i has ", ints.size(), " entries (max 16)");
  for (size_t d = 0; d < ints.size(); ++d) {
    int64_t kk = 0;
    dim_from_json(ints[d], a.i[d], kk, what, "attrs.i");
    if (s)
      s->i[d] = kk;
    else
      NABLA_CHECK(kk == 0, what, ": attrs.i cannot be symbolic here");
  }
  const json& f = array_field(j, "f", what, "attrs");
  NABLA_CHECK(f.size() <= 2, what, ": attrs f has ", f.size(), " entries (max 2)");
  for (size_t d = 0; d < f.size(); ++d) a.f[d] = double_from_json(f[d], what);
  if (j.contains("dtype")) a.dtype = dtype_from_name(str_field(j, "dtype", what, "attrs"), what);
  if (s && s->shape.size() && !s->any()) s->shape.clear();
  return a;
}

const char* kind_name(graph::ValueKind k) {
  switch (k) {
    case graph::ValueKind::kInput:
      return "input";
    case graph::ValueKind::kParam:
      return "param";
    case graph::ValueKind::kConstant:
      return "const";
    default:
      return "node";
  }
}

json parse(const std::string& text, const std::string& what) {
  try {
    return json::parse(text, [&](int depth, json::parse_event_t, json&) {
      NABLA_CHECK(depth <= kMaxDepth, what, ": the JSON nests deeper than the format allows (", kMaxDepth,
                  ")");
      return true;
    });
  } catch (const json::exception& e) {
    detail::throw_error(what, ": bad JSON: ", e.what());
  }
}

}  // namespace

DType dtype_from_name(const std::string& name, const std::string& what) {
  for (int t = 0; t <= static_cast<int>(DType::Float64); ++t)
    if (name == dtype_name(static_cast<DType>(t))) return static_cast<DType>(t);
  detail::throw_error(what, ": unknown dtype \"", name, "\"");
}

std::string attrs_to_json_text(const ops::Attrs& a) { return attrs_to_json(a, nullptr).dump(); }
ops::Attrs attrs_from_json_text(const std::string& text, const std::string& what) {
  return attrs_from_json(parse(text, what), nullptr, what);
}

std::string graph_to_json(const SymbolicGraph& sg, nn::OrderedDict<Tensor>& weights) {
  const graph::Graph& g = sg.graph;
  json j;
  j["format"] = "nabla.graph";
  j["version"] = 1;
  j["batch"] = sg.symbolic ? json{{"symbolic", true}} : json{{"symbolic", false}, {"size", sg.fixed_batch}};
  json values = json::array();
  for (size_t v = 0; v < g.values.size(); ++v) {
    const graph::Value& val = g.values[v];
    json jv;
    jv["kind"] = kind_name(val.kind);
    jv["dtype"] = dtype_name(val.dtype);
    std::vector<int64_t> shape(val.shape.begin(), val.shape.end());
    const bool has_slope = v < sg.value_slope.size() && !sg.value_slope[v].empty();
    jv["shape"] = dims_to_json(shape.data(), has_slope ? sg.value_slope[v].data() : nullptr, shape.size());
    if (val.kind == graph::ValueKind::kInput) {
      jv["index"] = val.input_index;
      if (!val.contiguous) jv["contiguous"] = false;
    }
    if (val.kind == graph::ValueKind::kParam || val.kind == graph::ValueKind::kConstant) {
      std::string key = val.kind == graph::ValueKind::kParam && !val.name.empty()
                            ? val.name
                            : std::string(kind_name(val.kind)) + "/" + std::to_string(v);
      while (weights.contains(key)) key += "'";
      weights.insert(key, val.tensor.contiguous());
      jv["weight"] = key;
    }
    values.push_back(std::move(jv));
  }
  json nodes = json::array();
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const graph::Node& n = g.nodes[k];
    json jn;
    jn["op"] = ops::op_name(n.op);
    jn["inputs"] = n.inputs;
    jn["outputs"] = n.outputs;
    json attrs = attrs_to_json(n.attrs, k < sg.attr_slope.size() ? &sg.attr_slope[k] : nullptr);
    if (!attrs.empty()) jn["attrs"] = std::move(attrs);
    if (!n.epilogue.empty()) {
      json ep = json::array();
      for (const auto& [op, a] : n.epilogue) {
        json e = {{"op", ops::op_name(op)}};
        json ea = attrs_to_json(a, nullptr);
        if (!ea.empty()) e["attrs"] = std::move(ea);
        ep.push_back(std::move(e));
      }
      jn["epilogue"] = std::move(ep);
    }
    bool any_inplace = false;
    for (int m : n.inplace) any_inplace = any_inplace || m >= 0;
    if (any_inplace) jn["inplace"] = n.inplace;
    nodes.push_back(std::move(jn));
  }
  j["values"] = std::move(values);
  j["nodes"] = std::move(nodes);
  j["inputs"] = g.inputs;
  j["outputs"] = g.outputs;
  return j.dump(1);
}

SymbolicGraph graph_from_json(const std::string& text, const nn::OrderedDict<Tensor>& weights,
                              const std::string& what) {
  json j = parse(text, what);
  check_keys(j, {"format", "version", "batch", "values", "nodes", "inputs", "outputs"}, what, "the graph");
  NABLA_CHECK(str_field(j, "format", what, "the graph") == "nabla.graph", what,
              ": format is not \"nabla.graph\"");
  NABLA_CHECK(j.contains("version") && j["version"] == 1, what, ": unsupported graph version ",
              j.contains("version") ? j["version"].dump() : "(none)", " (this nabla reads version 1)");
  SymbolicGraph sg;
  NABLA_CHECK(j.contains("batch"), what, ": the graph needs \"batch\"");
  const json& batch = j["batch"];
  check_keys(batch, {"symbolic", "size"}, what, "batch");
  NABLA_CHECK(batch.contains("symbolic") && batch["symbolic"].is_boolean(), what,
              ": batch.symbolic must be a boolean");
  sg.symbolic = batch["symbolic"].get<bool>();
  if (batch.contains("size")) sg.fixed_batch = json_int(batch["size"], what, "batch.size");
  graph::Graph& g = sg.graph;
  const json& values = array_field(j, "values", what, "the graph");
  const json& nodes = array_field(j, "nodes", what, "the graph");
  NABLA_CHECK(values.size() < (1u << 24) && nodes.size() < (1u << 24), what, ": too many values or nodes");
  sg.value_slope.resize(values.size());
  for (size_t v = 0; v < values.size(); ++v) {
    const json& jv = values[v];
    const std::string where = "value " + std::to_string(v);
    check_keys(jv, {"kind", "dtype", "shape", "index", "contiguous", "weight"}, what, where);
    graph::Value val;
    std::string kind = str_field(jv, "kind", what, where);
    if (kind == "input")
      val.kind = graph::ValueKind::kInput;
    else if (kind == "param")
      val.kind = graph::ValueKind::kParam;
    else if (kind == "const")
      val.kind = graph::ValueKind::kConstant;
    else if (kind == "node")
      val.kind = graph::ValueKind::kNode;
    else
      detail::throw_error(what, ": ", where, " has unknown kind \"", kind, "\"");
    val.dtype = dtype_from_name(str_field(jv, "dtype", what, where), what);
    const json& shape = array_field(jv, "shape", what, where.c_str());
    NABLA_CHECK(shape.size() <= kMaxDims, what, ": ", where, " has ", shape.size(), " dims (max ", kMaxDims,
                ")");
    std::vector<int64_t> c(shape.size()), k(shape.size());
    bool sym = false;
    for (size_t d = 0; d < shape.size(); ++d) {
      dim_from_json(shape[d], c[d], k[d], what, "a value shape");
      sym = sym || k[d] != 0;
    }
    val.shape = Shape(c);
    if (sym) {
      NABLA_CHECK(sg.symbolic, what, ": ", where, " has a symbolic size in a fixed-batch graph");
      sg.value_slope[v] = std::move(k);
      val.symbolic_batch = sg.value_slope[v][0] != 0;
    }
    if (val.kind == graph::ValueKind::kInput) {
      NABLA_CHECK(jv.contains("index"), what, ": ", where, " (an input) needs \"index\"");
      val.input_index =
          static_cast<int>(std::clamp<int64_t>(json_int(jv["index"], what, "index"), -1, 1 << 20));
      if (jv.contains("contiguous")) {
        NABLA_CHECK(jv["contiguous"].is_boolean(), what, ": ", where, " contiguous must be a boolean");
        val.contiguous = jv["contiguous"].get<bool>();
      }
    }
    if (val.kind == graph::ValueKind::kParam || val.kind == graph::ValueKind::kConstant) {
      std::string key = str_field(jv, "weight", what, where);
      const Tensor* t = weights.find(key);
      NABLA_CHECK(t, what, ": ", where, " refers to weight \"", key,
                  "\", which the weights file does not have");
      val.tensor = *t;
      val.name = key;
    } else {
      NABLA_CHECK(!jv.contains("weight"), what, ": ", where, " (", kind, ") cannot have a weight");
    }
    g.values.push_back(std::move(val));
  }
  sg.attr_slope.resize(nodes.size());
  for (size_t k = 0; k < nodes.size(); ++k) {
    const json& jn = nodes[k];
    const std::string where = "node " + std::to_string(k);
    check_keys(jn, {"op", "inputs", "outputs", "attrs", "epilogue", "inplace"}, what, where);
    graph::Node n;
    std::string op = str_field(jn, "op", what, where);
    try {
      n.op = graph::op_from_name(op);
    } catch (const Error&) {
      detail::throw_error(what, ": ", where, " names unknown op \"", op, "\"");
    }
    n.inputs = ids(array_field(jn, "inputs", what, where.c_str()), what, "inputs");
    n.outputs = ids(array_field(jn, "outputs", what, where.c_str()), what, "outputs");
    NABLA_CHECK(n.inputs.size() <= 16 && n.outputs.size() <= 8, what, ": ", where,
                " has too many inputs or outputs");
    if (jn.contains("attrs")) {
      n.attrs = attrs_from_json(jn["attrs"], &sg.attr_slope[k], what);
      NABLA_CHECK(sg.symbolic || !sg.attr_slope[k].any(), what, ": ", where,
                  " has a symbolic attribute in a fixed-batch graph");
    }
    for (const json& e : array_field(jn, "epilogue", what, where.c_str())) {
      check_keys(e, {"op", "attrs"}, what, where + " epilogue");
      std::string eop = str_field(e, "op", what, where + " epilogue");
      ops::OpId id{};
      try {
        id = graph::op_from_name(eop);
      } catch (const Error&) {
        detail::throw_error(what, ": ", where, " epilogue names unknown op \"", eop, "\"");
      }
      n.epilogue.emplace_back(
          id, e.contains("attrs") ? attrs_from_json(e["attrs"], nullptr, what) : ops::Attrs{});
    }
    n.inplace = ids(array_field(jn, "inplace", what, where.c_str()), what, "inplace");
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      int id = n.outputs[o];
      if (id >= 0 && id < static_cast<int>(g.values.size()) && g.values[id].kind == graph::ValueKind::kNode) {
        g.values[id].node = static_cast<int>(k);
        g.values[id].output = static_cast<int>(o);
      }
    }
    g.nodes.push_back(std::move(n));
  }
  g.inputs = ids(array_field(j, "inputs", what, "the graph"), what, "inputs");
  g.outputs = ids(array_field(j, "outputs", what, "the graph"), what, "outputs");
  for (size_t k = 0; k < g.inputs.size(); ++k)
    if (g.inputs[k] >= 0 && g.inputs[k] < static_cast<int>(g.values.size()))
      NABLA_CHECK(g.values[g.inputs[k]].input_index == static_cast<int>(k), what, ": input value %",
                  g.inputs[k], " has index ", g.values[g.inputs[k]].input_index, " but is graph input ", k);
  validate_structure(sg, what);
  return sg;
}

}  // namespace nabla::deploy
