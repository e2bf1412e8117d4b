// Read access to the optimised IR inside a jit::Graph (for the bundle exporter in src/deploy/).
// jit::detail::CompiledGraph is private to compile.cpp; this is the one additive accessor.
#pragma once
#include <functional>
#include <vector>

#include "graph/ir.h"
#include "nabla/jit.h"

namespace nabla::jit::detail {

/// The optimised graph the executor of `g` runs (values, nodes, params by reference).
const graph::Graph& optimized_graph(const jit::Graph& g);
/// Host calls replayed before each run (optimizer state); an inference graph has none.
size_t num_host_calls(const jit::Graph& g);

}  // namespace nabla::jit::detail
