// Graph IR: construction helpers, text dump, verification.
#include "graph/ir.h"

#include <sstream>

#include "ops/elementwise/fused.h"

namespace nabla::graph {

int Graph::add_value(Value v) {
  values.push_back(std::move(v));
  return static_cast<int>(values.size()) - 1;
}

int Graph::add_node(ops::OpId op, const ops::Attrs& attrs, std::vector<int> ins, const ops::TensorMeta* metas,
                    int num_outputs, Device device) {
  Node n;
  n.op = op;
  n.attrs = attrs;
  n.inputs = std::move(ins);
  int id = static_cast<int>(nodes.size());
  for (int j = 0; j < num_outputs; ++j) {
    Value v;
    v.kind = ValueKind::kNode;
    v.dtype = metas[j].dtype;
    v.shape = metas[j].shape;
    v.device = device;
    v.node = id;
    v.output = j;
    n.outputs.push_back(add_value(std::move(v)));
  }
  nodes.push_back(std::move(n));
  return id;
}

void Graph::replace_uses(int from, int to) {
  for (auto& n : nodes)
    for (int& i : n.inputs)
      if (i == from) i = to;
  for (int& o : outputs)
    if (o == from) o = to;
  for (auto& u : updates)
    if (u.source == from) u.source = to;
}

int Graph::remove_nodes(const std::vector<bool>& drop) {
  std::vector<Node> kept;
  int removed = 0;
  for (size_t k = 0; k < nodes.size(); ++k) {
    if (drop[k])
      ++removed;
    else
      kept.push_back(std::move(nodes[k]));
  }
  nodes = std::move(kept);
  for (size_t k = 0; k < nodes.size(); ++k)
    for (int o : nodes[k].outputs) values[o].node = static_cast<int>(k);
  return removed;
}

std::vector<int> Graph::use_counts() const {
  std::vector<int> c(values.size(), 0);
  for (const auto& n : nodes)
    for (int i : n.inputs) ++c[i];
  for (int o : outputs) ++c[o];
  for (const auto& u : updates) ++c[u.source];
  return c;
}

std::string value_type_str(const Value& v) {
  std::ostringstream os;
  os << dtype_name(v.dtype) << "[";
  for (int d = 0; d < v.shape.size(); ++d) {
    if (d) os << ",";
    if (d == 0 && v.symbolic_batch)
      os << "N";
    else
      os << v.shape[d];
  }
  os << "]";
  if (!v.device.is_cpu()) os << "@" << v.device;
  return os.str();
}

namespace {

void dump_attrs(std::ostream& os, const ops::Attrs& a) {
  std::ostringstream body;
  if (a.shape.size() > 0) body << " shape=" << a.shape;
  int last = -1;
  for (int k = 0; k < 16; ++k)
    if (a.i[k]) last = k;
  if (last >= 0) {
    body << " i=[";
    for (int k = 0; k <= last; ++k) body << (k ? "," : "") << a.i[k];
    body << "]";
  }
  if (a.f[0] != 0 || a.f[1] != 0) body << " f=[" << a.f[0] << "," << a.f[1] << "]";
  if (a.dtype != kFloat32) body << " dtype=" << dtype_name(a.dtype);
  std::string s = body.str();
  if (!s.empty()) os << " {" << s.substr(1) << "}";
}

const char* kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::kInput:
      return "input";
    case ValueKind::kParam:
      return "param";
    case ValueKind::kConstant:
      return "const";
    default:
      return "node";
  }
}

}  // namespace

std::string Graph::dump() const {
  std::ostringstream os;
  std::vector<bool> shown(values.size(), false);
  os << "graph(";
  for (size_t k = 0; k < inputs.size(); ++k)
    os << (k ? ", " : "") << "%" << inputs[k] << ": " << value_type_str(values[inputs[k]]);
  os << ") {\n";
  auto show_leaf = [&](int id) {
    const Value& v = values[id];
    if (shown[id] || v.kind == ValueKind::kNode || v.kind == ValueKind::kInput) return;
    shown[id] = true;
    os << "  %" << id << " = " << kind_name(v.kind);
    if (!v.name.empty()) os << " \"" << v.name << "\"";
    if (v.kind == ValueKind::kConstant && v.tensor.numel() == 1)
      os << " " << v.tensor.to(kFloat64).item<double>();
    os << " : " << value_type_str(v) << "\n";
  };
  for (const auto& n : nodes)
    for (int i : n.inputs) show_leaf(i);
  for (const auto& n : nodes) {
    os << "  ";
    for (size_t j = 0; j < n.outputs.size(); ++j) os << (j ? ", " : "") << "%" << n.outputs[j];
    os << " = " << ops::op_name(n.op) << "(";
    for (size_t k = 0; k < n.inputs.size(); ++k) os << (k ? ", " : "") << "%" << n.inputs[k];
    os << ")";
    if (n.op == ops::OpId::fused_elementwise)
      os << " {" << ops::fused::describe(n.attrs, static_cast<int>(n.inputs.size())) << "}";
    else
      dump_attrs(os, n.attrs);
    for (const auto& [op, at] : n.epilogue) {
      os << " +" << ops::op_name(op);
      dump_attrs(os, at);
    }
    for (size_t j = 0; j < n.inplace.size(); ++j)
      if (n.inplace[j] >= 0) os << " inplace(%" << n.outputs[j] << "->%" << n.inputs[n.inplace[j]] << ")";
    os << " : ";
    for (size_t j = 0; j < n.outputs.size(); ++j)
      os << (j ? ", " : "") << value_type_str(values[n.outputs[j]]);
    os << "\n";
  }
  for (const auto& u : updates) os << "  update %" << u.target << " <- %" << u.source << "\n";
  os << "  return (";
  for (size_t k = 0; k < outputs.size(); ++k) os << (k ? ", " : "") << "%" << outputs[k];
  os << ")\n}\n";
  return os.str();
}

void Graph::verify() const {
  std::vector<bool> defined(values.size(), false);
  const int nv = static_cast<int>(values.size());
  for (int i = 0; i < nv; ++i)
    if (values[i].kind != ValueKind::kNode) defined[i] = true;
  for (size_t k = 0; k < nodes.size(); ++k) {
    for (int i : nodes[k].inputs)
      NABLA_CHECK(i >= 0 && i < nv && defined[i], "graph: node ", k, " (", ops::op_name(nodes[k].op),
                  ") uses value %", i, " before it is defined");
    for (int o : nodes[k].outputs) {
      NABLA_CHECK(o >= 0 && o < nv && values[o].kind == ValueKind::kNode, "graph: node ", k,
                  " has a bad output %", o);
      defined[o] = true;
    }
  }
  for (int o : outputs)
    NABLA_CHECK(o >= 0 && o < nv && defined[o], "graph: output %", o, " is never defined");
  for (const auto& u : updates)
    NABLA_CHECK(values[u.target].kind == ValueKind::kParam && defined[u.source], "graph: bad update %",
                u.target, " <- %", u.source);
}

const char* op_family(ops::OpId id) {
  static const char* families[] = {
#define NABLA_OP(name, family) #family,
#include "ops/op_list.def"
#undef NABLA_OP
  };
  return families[static_cast<int>(id)];
}

ops::OpId op_from_name(const std::string& name) {
  for (int k = 0; k < ops::kNumOps; ++k)
    if (name == ops::op_name(static_cast<ops::OpId>(k))) return static_cast<ops::OpId>(k);
  NABLA_CHECK(false, "graph: unknown op '", name, "'");
  return {};
}

}  // namespace nabla::graph
