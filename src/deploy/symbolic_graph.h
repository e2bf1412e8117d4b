// An inference graph whose integer sizes may depend on the batch size N: every value dim and every
// integer attribute (Attrs::shape entries, Attrs::i) is `c + k*N` (k = 0 for most). The exporter
// finds k and c by tracing at three batch sizes (a size affine in N across all three is symbolic;
// anything else that differs makes the bundle fixed-batch); the loader specialises the template to
// the batch of the inputs it is given and runs the ordinary graph::Executor on the result.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace nabla::deploy {

/// Slopes (k of c + k*N) of one node's integer attributes.
struct AttrSlopes {
  std::vector<int64_t> shape;  // one per Attrs::shape entry (empty: all zero)
  std::array<int64_t, 16> i{};
  bool any() const;
};

struct SymbolicGraph {
  /// Shapes and attributes hold the constant terms c (the sizes at N = 0) when `symbolic`, or the
  /// fixed sizes otherwise. Values of kind kParam / kConstant hold their tensors.
  graph::Graph graph;
  bool symbolic = false;
  int64_t fixed_batch = 0;                        // !symbolic: the only batch size accepted (0: none)
  std::vector<std::vector<int64_t>> value_slope;  // per value: k per dim (empty: all zero)
  std::vector<AttrSlopes> attr_slope;             // per node

  /// The concrete graph for batch size n: sizes evaluated, then every node's output types checked
  /// against OpDef::infer (throws nabla::Error naming `what` and the node on any disagreement).
  graph::Graph specialize(int64_t n, const std::string& what) const;
};

/// Checks ids, kinds, arity and order (no use before definition, so no cycle) of a template.
void validate_structure(const SymbolicGraph& g, const std::string& what);

/// Inputs accepted per op: [min, max] (max -1: any number). One table for the whole registry.
std::pair<int, int> op_arity(ops::OpId op);

}  // namespace nabla::deploy
