// The graph IR: values (dtype, shape, device) and nodes that name an op of the eager registry
// (ops::OpId + ops::Attrs). There is no second definition of any op: shape rules come from
// OpDef::infer, kernels from OpDef::kernels[device], gradients (at trace time) from OpDef::vjp.
//
// A Graph is a straight-line program in topological order. Its values are:
//   - inputs     (the traced function's arguments, bound on every call),
//   - params     (tensors captured by reference from outside the function: parameters, buffers,
//                 optimizer state; read at each run, so later changes are seen),
//   - constants  (tensors created during the trace that nothing outside holds: folded freely),
//   - node outputs.
// Updates say which params a run writes (optimizer steps, running statistics): after a run, param
// `target` holds value `source`. Everything is plain data (op by name, Attrs as numbers, constant
// tensors), so a bundle can store a graph as JSON + safetensors (see docs/graph_mode.md).
#pragma once
#include <string>
#include <vector>

#include "nabla/tensor.h"
#include "ops/registry.h"

namespace nabla::graph {

enum class ValueKind : uint8_t { kInput, kParam, kConstant, kNode };

struct Value {
  ValueKind kind = ValueKind::kNode;
  DType dtype = kFloat32;
  Shape shape;
  Device device = kCPU;
  bool symbolic_batch = false;  // dim 0 follows the inputs' batch size (printed as N)
  bool contiguous = true;       // kInput: the traced input was contiguous (runs must match)
  int node = -1;                // producer (kNode)
  int output = 0;               // which output of the producer
  int input_index = -1;         // kInput: position in the argument list
  Tensor tensor;                // kParam (by reference) or kConstant (owned)
  std::string name;             // optional: "fc1.weight" for params
};

struct Node {
  ops::OpId op{};
  ops::Attrs attrs;
  std::vector<int> inputs;
  std::vector<int> outputs;
  /// Unary elementwise ops applied in place to output 0 right after the kernel (fusion:
  /// bias + activation in the linear/conv epilogue, chains of unary ops in one buffer).
  std::vector<std::pair<ops::OpId, ops::Attrs>> epilogue;
  /// inplace[j] = k >= 0: output j is written into input k's buffer (in-place reuse pass).
  std::vector<int> inplace;
  /// Bytes of scratch the kernel reserved when traced (ops/workspace.h); planned into the arena.
  int64_t workspace = 0;
};

struct Update {
  int target;  // a kParam value
  int source;  // the value it holds after a run
};

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::vector<Update> updates;

  int add_value(Value v);
  /// Appends a node whose outputs get metas from OpDef::infer on `input_tensors`.
  int add_node(ops::OpId op, const ops::Attrs& attrs, std::vector<int> inputs, const ops::TensorMeta* metas,
               int num_outputs, Device device);
  /// Replaces every use of value `from` (node inputs, outputs, update sources) by `to`.
  void replace_uses(int from, int to);
  /// Removes the nodes with drop[k] set, keeping the others in order (and their outputs' producer
  /// indices right). Returns how many were removed.
  int remove_nodes(const std::vector<bool>& drop);
  /// Number of uses of each value (node inputs + outputs + update sources).
  std::vector<int> use_counts() const;
  /// Readable text form (one line per node, values as %id with dtype and shape).
  std::string dump() const;
  /// Throws nabla::Error when the graph is malformed (use before definition, bad ids).
  void verify() const;
};

/// "f32[N,64]" etc.
std::string value_type_str(const Value& v);
/// Family of an op from op_list.def ("elementwise", "linalg", ...).
const char* op_family(ops::OpId id);
/// The op with this name, or throws nabla::Error (for deserialisation).
ops::OpId op_from_name(const std::string& name);

}  // namespace nabla::graph
