// Internal: autograd graph nodes, edges and saved tensors.
//
// A Node turns the gradients of its outputs into gradients of its inputs; `next` says where each
// input's gradient goes: another node's output, a leaf's .grad, or nowhere.
#pragma once
#include <memory>
#include <vector>

#include "nabla/autograd.h"
#include "ops/registry.h"

namespace nabla::autograd {

/// Where the gradient of one input flows.
struct Edge {
  std::shared_ptr<Node> fn;                  // interior: gradient of fn's output `output_nr`
  std::shared_ptr<detail::TensorImpl> leaf;  // leaf that requires grad: accumulate into .grad
  uint32_t output_nr = 0;
  bool valid() const { return fn || leaf; }
};

/// The edge a tensor's gradient flows along (invalid when it does not require grad).
Edge gradient_edge(const Tensor& t);

/// A tensor kept for backward, with the version it had when saved (in-place checks).
class SavedTensor {
 public:
  SavedTensor() = default;
  /// Outputs are stored without their grad_fn (it is the saving node: no reference cycle).
  SavedTensor(const Tensor& t, bool is_output);
  /// The saved tensor; throws if it was modified in place since. `owner` restores an output's history.
  Tensor unpack(const std::shared_ptr<Node>& owner, const char* op) const;
  bool defined() const { return data_.defined(); }
  void reset() { data_ = Tensor(); }

 private:
  Tensor data_;
  uint32_t version_ = 0;
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
  bool requires_grad_ = false;
};

struct Node : std::enable_shared_from_this<Node> {
  virtual ~Node() = default;
  /// Gradients of the inputs (one per `next` edge) from gradients of the outputs.
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) = 0;
  virtual const char* name() const = 0;
  /// Drops saved tensors after a backward without retain_graph.
  virtual void release() {}

  std::vector<Edge> next;
  std::vector<ops::TensorMeta> output_meta;  // to build zero gradients for unused outputs
  /// Hooks on the node's outputs (tensor.register_hook / retain_grad on non-leaves): per output.
  std::vector<std::pair<uint32_t, detail::GradHook>> pre_hooks;
  uint64_t sequence_nr = 0;  // creation order: later nodes run first
};

/// The node every dispatched op records: calls OpDef::vjp with the saved tensors.
struct OpNode final : Node {
  ops::OpId op;
  ops::Attrs attrs;
  std::vector<SavedTensor> saved_inputs;   // size num_inputs (entries may be empty)
  std::vector<SavedTensor> saved_outputs;  // size num_outputs (entries may be empty)
  std::vector<ops::TensorMeta> input_meta;
  bool released = false;

  std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) override;
  const char* name() const override { return ops::op_name(op); }
  void release() override;
};

/// Next sequence number (thread-safe).
uint64_t next_sequence_nr();

}  // namespace nabla::autograd
