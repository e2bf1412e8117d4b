// Core Keras layers: Input, Dense, Activation, Dropout, Flatten, Reshape, Embedding, and the
// merge layers Concatenate and Add (for functional models with several inputs).
//   using namespace nabla::keras;
//   auto x = Input({784});
//   auto h = layers::Dense(64, "relu")(x);
//   auto y = layers::Dense(10, "softmax", {.name = "probs"})(layers::Dropout(0.2)(h));
// Dense wraps nn::Linear with Keras defaults: glorot_uniform kernel, zero bias.
#pragma once
#include <cstdint>
#include <string>

#include "nabla/keras/layer.h"
#include "nabla/nn/dropout.h"
#include "nabla/nn/embedding.h"
#include "nabla/nn/linear.h"

namespace nabla::keras {

/// A symbolic input of `shape` (without the batch dim): the start of a functional model.
KerasTensor Input(const TensorShape& shape, const std::string& name = "");

namespace layers {

/// The layer behind keras::Input (summary row "input_layer (InputLayer)").
class InputLayerImpl : public Layer {
 public:
  InputLayerImpl(const TensorShape& shape, const std::string& name = "");
  TensorShape compute_output_shape(const TensorShape& in) override;
  Tensor call(const Tensor& x) override { return x; }
  Flow call_flow(const std::vector<Flow>& in) override { return in[0]; }
};
class InputLayer : public LayerHolder<InputLayerImpl> {
 public:
  using LayerHolder::LayerHolder;
};
/// keras.Input as a function returning a KerasTensor (also in namespace keras).
inline KerasTensor Input(const TensorShape& shape, const std::string& name = "") {
  return keras::Input(shape, name);
}

struct DenseOptions {
  TensorShape input_shape = {};  // without the batch dim; builds the model at construction
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  std::string name = "";
};
/// units outputs over the last axis, then `activation`.
class DenseImpl : public Layer {
 public:
  DenseImpl(int64_t units, const std::string& activation = "", const DenseOptions& options = {});
  void build(const TensorShape& in) override;
  TensorShape compute_output_shape(const TensorShape& in) override;
  Tensor call(const Tensor& x) override;
  Flow call_flow_logits(const std::vector<Flow>& in) override;
  std::string final_activation() const override { return activation; }
  Tensor to_keras_layout(size_t i, const Tensor& w) const override;
  Tensor from_keras_layout(size_t i, const Tensor& w) const override;

  int64_t units;
  std::string activation;
  DenseOptions options;
  nn::Linear linear{nullptr};  // created by build()
};
class Dense : public LayerHolder<DenseImpl> {
 public:
  using LayerHolder::LayerHolder;
  Dense(int64_t units, const std::string& activation = "", const DenseOptions& options = {})
      : LayerHolder(std::make_shared<DenseImpl>(units, activation, options)) {}
};

struct LayerOptions {
  TensorShape input_shape = {};
  std::string name = "";
};

/// Applies an activation by name.
class ActivationImpl : public Layer {
 public:
  explicit ActivationImpl(const std::string& activation, const LayerOptions& options = {});
  TensorShape compute_output_shape(const TensorShape& in) override { return in; }
  Tensor call(const Tensor& x) override;
  Flow call_flow(const std::vector<Flow>& in) override;
  Flow call_flow_logits(const std::vector<Flow>& in) override { return in[0]; }
  std::string final_activation() const override { return activation; }
  std::string activation;
};
class Activation : public LayerHolder<ActivationImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit Activation(const std::string& activation, const LayerOptions& options = {})
      : LayerHolder(std::make_shared<ActivationImpl>(activation, options)) {}
};

/// Zeroes a `rate` fraction of the inputs while training (scaling the rest by 1/(1-rate)).
class DropoutImpl : public Layer {
 public:
  explicit DropoutImpl(double rate, const LayerOptions& options = {});
  TensorShape compute_output_shape(const TensorShape& in) override { return in; }
  Tensor call(const Tensor& x) override { return dropout(x); }
  Flow call_flow(const std::vector<Flow>& in) override { return {dropout(in[0].t), in[0].nchw}; }
  double rate;
  nn::Dropout dropout;
};
class Dropout : public LayerHolder<DropoutImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit Dropout(double rate, const LayerOptions& options = {})
      : LayerHolder(std::make_shared<DropoutImpl>(rate, options)) {}
};

/// (None, d1, d2, ...) -> (None, d1*d2*...), in channels-last order like Keras.
class FlattenImpl : public Layer {
 public:
  explicit FlattenImpl(const LayerOptions& options = {});
  TensorShape compute_output_shape(const TensorShape& in) override;
  Tensor call(const Tensor& x) override;
};
class Flatten : public LayerHolder<FlattenImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit Flatten(const LayerOptions& options = {}) : LayerHolder(std::make_shared<FlattenImpl>(options)) {}
};

/// Reshapes each sample to target_shape (one entry may be -1).
class ReshapeImpl : public Layer {
 public:
  explicit ReshapeImpl(const TensorShape& target_shape, const LayerOptions& options = {});
  TensorShape compute_output_shape(const TensorShape& in) override;
  Tensor call(const Tensor& x) override;
  TensorShape target_shape;
};
class Reshape : public LayerHolder<ReshapeImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit Reshape(const TensorShape& target_shape, const LayerOptions& options = {})
      : LayerHolder(std::make_shared<ReshapeImpl>(target_shape, options)) {}
};

struct EmbeddingOptions {
  TensorShape input_shape = {};
  std::string embeddings_initializer = "uniform";  // Keras: uniform(-0.05, 0.05)
  std::string name = "";
};
/// Integer indices (any shape) -> vectors of output_dim, over nn::Embedding.
class EmbeddingImpl : public Layer {
 public:
  EmbeddingImpl(int64_t input_dim, int64_t output_dim, const EmbeddingOptions& options = {});
  TensorShape compute_output_shape(const TensorShape& in) override;
  Tensor call(const Tensor& x) override;
  int64_t input_dim, output_dim;
  nn::Embedding embedding;
};
class Embedding : public LayerHolder<EmbeddingImpl> {
 public:
  using LayerHolder::LayerHolder;
  Embedding(int64_t input_dim, int64_t output_dim, const EmbeddingOptions& options = {})
      : LayerHolder(std::make_shared<EmbeddingImpl>(input_dim, output_dim, options)) {}
};

/// Joins its inputs along `axis` (default the last).
class ConcatenateImpl : public Layer {
 public:
  explicit ConcatenateImpl(int64_t axis = -1, const std::string& name = "");
  bool multi_input() const override { return true; }
  TensorShape compute_output_shape_multi(const std::vector<TensorShape>& shapes) override;
  Tensor call_multi(const std::vector<Tensor>& xs) override;
  int64_t axis;
};
class Concatenate : public LayerHolder<ConcatenateImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit Concatenate(int64_t axis = -1, const std::string& name = "")
      : LayerHolder(std::make_shared<ConcatenateImpl>(axis, name)) {}
};

/// Elementwise sum of inputs of equal shape.
class AddImpl : public Layer {
 public:
  explicit AddImpl(const std::string& name = "");
  bool multi_input() const override { return true; }
  TensorShape compute_output_shape_multi(const std::vector<TensorShape>& shapes) override;
  Tensor call_multi(const std::vector<Tensor>& xs) override;
};
class Add : public LayerHolder<AddImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit Add(const std::string& name = "") : LayerHolder(std::make_shared<AddImpl>(name)) {}
};

}  // namespace layers
}  // namespace nabla::keras
