// SymbolicGraph: checking a loaded template and specialising it to a batch size (see the header).
#include "deploy/symbolic_graph.h"

#include <cstring>
#include <limits>

namespace nabla::deploy {
namespace {

// A single value may not exceed this (a malformed bundle could otherwise declare terabytes).
constexpr int64_t kMaxValueBytes = int64_t{1} << 34;

int64_t eval(int64_t c, int64_t k, int64_t n, const std::string& what, const char* where) {
  int64_t kn = 0, r = 0;
  NABLA_CHECK(!__builtin_mul_overflow(k, n, &kn) && !__builtin_add_overflow(c, kn, &r), what, ": ", where,
              " overflows at batch size ", n);
  return r;
}

// A tensor that carries only a shape and dtype: enough for OpDef::infer (never reads data).
Tensor meta_tensor(const graph::Value& v) {
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->shape = v.shape;
  impl->strides = contiguous_strides(v.shape);
  impl->dtype = v.dtype;
  return Tensor(std::move(impl));
}

bool training_only(ops::OpId op) {
  std::string name = ops::op_name(op);
  auto ends = [&](const char* s) {
    size_t n = std::strlen(s);
    return name.size() >= n && name.compare(name.size() - n, n, s) == 0;
  };
  return ends("_grad") || ends("_backward") || ends("_step") || op == ops::OpId::fill;
}

}  // namespace

bool AttrSlopes::any() const {
  for (int64_t k : shape)
    if (k) return true;
  for (int64_t k : i)
    if (k) return true;
  return false;
}

void validate_structure(const SymbolicGraph& sg, const std::string& what) {
  const graph::Graph& g = sg.graph;
  const int nv = static_cast<int>(g.values.size());
  NABLA_CHECK(sg.value_slope.empty() || sg.value_slope.size() == g.values.size(), what, ": batch slopes for ",
              sg.value_slope.size(), " values, but the graph has ", nv);
  NABLA_CHECK(sg.attr_slope.empty() || sg.attr_slope.size() == g.nodes.size(), what, ": batch slopes for ",
              sg.attr_slope.size(), " nodes, but the graph has ", g.nodes.size());
  std::vector<int> producer(nv, -1);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const graph::Node& n = g.nodes[k];
    NABLA_CHECK(static_cast<int>(n.op) < ops::kNumOps, what, ": node ", k, " has a bad op id");
    const char* name = ops::op_name(n.op);
    NABLA_CHECK(!training_only(n.op), what, ": node ", k, " is a training op (", name,
                "); an inference bundle may not contain it");
    auto [lo, hi] = op_arity(n.op);
    NABLA_CHECK(hi != -2, what, ": node ", k, " uses op ", name,
                ", which has no arity entry in src/deploy/op_arity.cpp (bundles cannot hold it yet)");
    const int ni = static_cast<int>(n.inputs.size());
    NABLA_CHECK(ni >= lo && (hi < 0 || ni <= hi) && ni <= 16, what, ": node ", k, " (", name, ") has ", ni,
                " inputs, expected ", lo,
                hi == lo ? "" : (hi < 0 ? " or more" : " to " + std::to_string(hi)));
    const ops::OpDef& def = ops::op_def(n.op);
    NABLA_CHECK(static_cast<int>(n.outputs.size()) == def.num_outputs, what, ": node ", k, " (", name,
                ") has ", n.outputs.size(), " outputs, the op has ", int(def.num_outputs));
    for (int o : n.outputs) {
      NABLA_CHECK(o >= 0 && o < nv && g.values[o].kind == graph::ValueKind::kNode, what, ": node ", k, " (",
                  name, ") writes value %", o, ", which is not a node output value");
      NABLA_CHECK(producer[o] < 0, what, ": value %", o, " is produced twice (nodes ", producer[o], " and ",
                  k, ")");
      producer[o] = static_cast<int>(k);
    }
    for (const auto& [op, attrs] : n.epilogue) {
      NABLA_CHECK(op_arity(op) == std::make_pair(1, 1) && ops::op_def(op).num_outputs == 1 &&
                      !ops::op_def(op).view && !training_only(op) &&
                      std::string(graph::op_family(op)) == "elementwise",
                  what, ": node ", k, " (", name, ") has a non-unary epilogue op ", ops::op_name(op));
    }
    NABLA_CHECK(n.inplace.size() <= n.outputs.size(), what, ": node ", k,
                " has more in-place marks than outputs");
    for (int m : n.inplace)
      NABLA_CHECK(m >= -1 && m < ni, what, ": node ", k, " in-place input ", m, " out of range");
  }
  // Order: a node may read only leaves and outputs of earlier nodes (this also rules out cycles).
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (int i : g.nodes[k].inputs) {
      NABLA_CHECK(i >= 0 && i < nv, what, ": node ", k, " reads value %", i, ", which does not exist (", nv,
                  " values)");
      NABLA_CHECK(g.values[i].kind != graph::ValueKind::kNode || (producer[i] >= 0 && producer[i] < int(k)),
                  what, ": node ", k, " reads value %", i, " before it is produced (a cycle or a bad order)");
    }
  std::vector<bool> is_input(nv, false);
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    int i = g.inputs[k];
    NABLA_CHECK(i >= 0 && i < nv && g.values[i].kind == graph::ValueKind::kInput && !is_input[i], what,
                ": graph input ", k, " (value %", i, ") is not an input value");
    is_input[i] = true;
  }
  for (int v = 0; v < nv; ++v) {
    const graph::Value& val = g.values[v];
    if (val.kind == graph::ValueKind::kInput)
      NABLA_CHECK(is_input[v], what, ": input value %", v, " is not listed as a graph input");
    if (val.kind == graph::ValueKind::kNode)
      NABLA_CHECK(producer[v] >= 0, what, ": value %", v, " is never produced");
    if (val.kind == graph::ValueKind::kParam || val.kind == graph::ValueKind::kConstant) {
      NABLA_CHECK(val.tensor.defined(), what, ": value %", v, " has no tensor");
      NABLA_CHECK(val.tensor.dtype() == val.dtype && val.tensor.shape() == val.shape, what, ": value %", v,
                  " ('", val.name, "') is declared ", dtype_name(val.dtype), val.shape,
                  " but its weights are ", dtype_name(val.tensor.dtype()), val.tensor.shape());
      NABLA_CHECK(sg.value_slope.empty() || sg.value_slope[v].empty(), what, ": weight value %", v,
                  " cannot depend on the batch size");
    }
  }
  NABLA_CHECK(!g.outputs.empty(), what, ": the graph has no outputs");
  for (int o : g.outputs)
    NABLA_CHECK(o >= 0 && o < nv && g.values[o].kind != graph::ValueKind::kInput, what, ": output value %", o,
                " is out of range or an input");
  NABLA_CHECK(g.updates.empty(), what, ": an inference graph may not update state");
}

graph::Graph SymbolicGraph::specialize(int64_t n, const std::string& what) const {
  NABLA_CHECK(n >= 0, what, ": negative batch size ", n);
  NABLA_CHECK(symbolic || fixed_batch == 0 || n == fixed_batch, what,
              ": this bundle was exported for batch size ", fixed_batch, " only, got ", n);
  graph::Graph g = graph;
  if (symbolic) {
    for (size_t v = 0; v < g.values.size(); ++v) {
      if (v >= value_slope.size() || value_slope[v].empty()) continue;
      graph::Value& val = g.values[v];
      NABLA_CHECK(value_slope[v].size() == static_cast<size_t>(val.shape.size()), what, ": value %", v,
                  " has ", value_slope[v].size(), " batch slopes for ", val.shape.size(), " dims");
      for (int d = 0; d < val.shape.size(); ++d)
        val.shape[d] = eval(val.shape[d], value_slope[v][d], n, what, "a shape");
    }
    for (size_t k = 0; k < g.nodes.size() && k < attr_slope.size(); ++k) {
      ops::Attrs& a = g.nodes[k].attrs;
      const AttrSlopes& s = attr_slope[k];
      NABLA_CHECK(s.shape.empty() || s.shape.size() == static_cast<size_t>(a.shape.size()), what, ": node ",
                  k, " has ", s.shape.size(), " batch slopes for ", a.shape.size(), " shape attributes");
      for (size_t d = 0; d < s.shape.size(); ++d)
        a.shape[d] = eval(a.shape[d], s.shape[d], n, what, "an attribute");
      for (int d = 0; d < 16; ++d) a.i[d] = eval(a.i[d], s.i[d], n, what, "an attribute");
    }
  }
  // Every size must be sane, then every node's declared output types must be what its shape rule
  // computes from its inputs: the bundle's shapes are checked, not trusted.
  for (size_t v = 0; v < g.values.size(); ++v) {
    const graph::Value& val = g.values[v];
    int64_t numel = 1;
    for (int d = 0; d < val.shape.size(); ++d) {
      NABLA_CHECK(val.shape[d] >= 0, what, ": value %", v, " has a negative size ", val.shape,
                  " at batch size ", n);
      NABLA_CHECK(!__builtin_mul_overflow(numel, val.shape[d], &numel) && numel <= kMaxValueBytes, what,
                  ": value %", v, " of shape ", val.shape, " is too large");
    }
    NABLA_CHECK(val.shape.size_fits_int64(), what, ": value %", v, " of shape ", val.shape, " is too large");
    NABLA_CHECK(numel * static_cast<int64_t>(dtype_size(val.dtype)) <= kMaxValueBytes, what, ": value %", v,
                " of shape ", val.shape, " is too large");
  }
  std::vector<Tensor> metas(g.values.size());
  for (size_t v = 0; v < g.values.size(); ++v)
    metas[v] = g.values[v].tensor.defined() ? g.values[v].tensor : meta_tensor(g.values[v]);
  Tensor ins[16];
  ops::TensorMeta outs[8];
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const graph::Node& node = g.nodes[k];
    const ops::OpDef& def = ops::op_def(node.op);
    for (size_t i = 0; i < node.inputs.size(); ++i) ins[i] = metas[node.inputs[i]];
    try {
      def.infer(ins, static_cast<int>(node.inputs.size()), node.attrs, outs);
    } catch (const Error& e) {
      detail::throw_error(what, ": node ", k, " (", def.name, ") at batch size ", n, ": ", e.what());
    }
    for (size_t j = 0; j < node.outputs.size(); ++j) {
      const graph::Value& v = g.values[node.outputs[j]];
      NABLA_CHECK(outs[j].shape == v.shape && outs[j].dtype == v.dtype, what, ": node ", k, " (", def.name,
                  ") output %", node.outputs[j], " is declared ", dtype_name(v.dtype), v.shape,
                  " but the op computes ", dtype_name(outs[j].dtype), outs[j].shape, " at batch size ", n);
    }
    for (size_t j = 0; j < node.inplace.size(); ++j) {
      if (node.inplace[j] < 0) continue;
      const graph::Value& in = g.values[node.inputs[node.inplace[j]]];
      const graph::Value& out = g.values[node.outputs[j]];
      // Only a temporary may be overwritten: never a weight or the caller's input.
      NABLA_CHECK(in.kind == graph::ValueKind::kNode && in.shape == out.shape && in.dtype == out.dtype, what,
                  ": node ", k, " (", def.name, ") writes output ", j,
                  " in place over an input that is not a "
                  "temporary of the same type");
    }
    for (const auto& [op, attrs] : node.epilogue) {
      ops::TensorMeta e;
      Tensor x = meta_tensor(g.values[node.outputs[0]]);
      try {
        ops::op_def(op).infer(&x, 1, attrs, &e);
      } catch (const Error& err) {
        detail::throw_error(what, ": node ", k, " epilogue ", ops::op_name(op), ": ", err.what());
      }
      NABLA_CHECK(e.shape == x.shape() && e.dtype == x.dtype(), what, ": node ", k, " epilogue ",
                  ops::op_name(op), " changes the type of its operand");
    }
  }
  return g;
}

}  // namespace nabla::deploy
