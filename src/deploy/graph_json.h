// The graph of a bundle as JSON (graph.json): values, nodes naming registry ops, ops::Attrs as plain
// JSON fields, sizes as numbers or {"N": k, "c": c} (= c + k*N for the batch size N). Weights
// (params and folded constants) live in a safetensors file; values name their entry.
//
//   {"format": "nabla.graph", "version": 1, "batch": {"symbolic": true},
//    "values": [{"kind": "input", "dtype": "float32", "shape": [{"N": 1}, 784], "index": 0}, ...
//               {"kind": "param", "dtype": "float32", "shape": [64, 784], "weight": "fc1.weight"}, ...],
//    "nodes": [{"op": "linear", "inputs": [0, 1, 2], "outputs": [3], "epilogue": [{"op": "relu"}]}, ...],
//    "inputs": [0], "outputs": [9]}
#pragma once
#include <string>

#include "deploy/symbolic_graph.h"
#include "nabla/nn/ordered_dict.h"

namespace nabla::deploy {

/// The JSON text of `g`; fills `weights` with every param/constant tensor under the name its value
/// refers to (params keep their module names, constants are "const/<value id>").
std::string graph_to_json(const SymbolicGraph& g, nn::OrderedDict<Tensor>& weights);
/// Parses and validates graph JSON against `weights` (every error names `what`): unknown ops or
/// keys, bad ids, arity, order/cycles, dtype or shape disagreeing with the weights.
SymbolicGraph graph_from_json(const std::string& text, const nn::OrderedDict<Tensor>& weights,
                              const std::string& what);

/// ops::Attrs <-> JSON object: only the fields that differ from the default are written
/// ({"shape": [...], "i": [...], "f": [...], "dtype": "..."}); non-finite floats as strings.
/// Attrs is one plain struct for every op, so one writer covers the whole registry.
std::string attrs_to_json_text(const ops::Attrs& a);
ops::Attrs attrs_from_json_text(const std::string& text, const std::string& what);

/// DType from its dtype_name() spelling ("float32"), or throws naming `what`.
DType dtype_from_name(const std::string& name, const std::string& what);

}  // namespace nabla::deploy
