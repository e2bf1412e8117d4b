// Running an exported model bundle (a directory written by nabla::export_model or Keras
// model.save("dir")) in a program that has none of the model's code. Part of the inference-only
// library (nabla::inference): ops, kernels, the graph executor and this loader.
//
//   nabla::LoadedModel m = nabla::load_model("mnist_bundle");
//   std::cout << m.signature().inputs[0].name;         // "input_0", shape [-1, 784] (-1: batch)
//   nabla::Tensor y = m(x);                             // any batch size when the batch is symbolic
//
// Bundle layout (docs/deployment.md): bundle.json (signature, metadata, format version; written
// last), graph.json (the optimised inference graph: registry op names, attributes, value types
// with the batch dimension symbolic), weights.safetensors (parameters and folded constants).
// Everything is validated on load; any problem is a nabla::Error naming the file and the problem.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

/// One input or output of a bundle. shape[d] == -1 where the size follows the batch size.
struct TensorSpec {
  std::string name;
  DType dtype = kFloat32;
  std::vector<int64_t> shape;
};

/// Inputs and outputs of a bundle, in call order.
struct Signature {
  std::vector<TensorSpec> inputs, outputs;
  /// True when any batch size is accepted; false: only `fixed_batch`.
  bool symbolic_batch = true;
  int64_t fixed_batch = 0;
};

/// A loaded bundle: call it like the model. Not thread-safe (one executor per batch size, reused):
/// give each thread its own LoadedModel (load_model again, or copy: copies share nothing mutable).
class LoadedModel {
 public:
  LoadedModel();
  ~LoadedModel();
  LoadedModel(const LoadedModel&);
  LoadedModel& operator=(const LoadedModel&);
  LoadedModel(LoadedModel&&) noexcept;
  LoadedModel& operator=(LoadedModel&&) noexcept;

  /// Runs the graph on inputs matching the signature (dtype, shape; any batch size when symbolic)
  /// and returns every output.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  /// Same as run(). Note: m({x}) with one braced tensor picks the single-tensor overload below.
  std::vector<Tensor> operator()(const std::vector<Tensor>& inputs) { return run(inputs); }
  /// Single input, first output.
  Tensor operator()(const Tensor& x);

  const Signature& signature() const;
  /// bundle.json "metadata": nabla_version, created_utc, plus what the exporter added.
  const std::map<std::string, std::string>& metadata() const;
  /// Elements in all parameters (folded constants excluded).
  int64_t num_parameters() const;
  /// Ops of the graph with how many nodes use each (fused epilogue ops counted too), by name.
  std::vector<std::pair<std::string, int>> op_counts() const;
  /// Readable text form of the graph specialised to `batch`.
  std::string dump(int64_t batch = 1) const;
  /// The bundle directory it came from.
  const std::string& path() const;

  struct Impl;
  explicit LoadedModel(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

/// Loads and validates a bundle directory.
LoadedModel load_model(const std::string& dir);

}  // namespace nabla
