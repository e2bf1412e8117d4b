// keras::Layer: the base of every Keras-style layer. A Layer is an nn::Module (so parameters(),
// state_dict(), train()/eval() work) that knows Keras shapes: it is built from an input shape
// (creating its weights then, as Keras does), computes its output shape, and can be called on
// real tensors (eager) or on KerasTensors (the functional API).
//
//   struct Scale : nabla::keras::Layer {            // a custom layer, Keras style
//     Scale() : Layer("Scale", "scale") {}
//     nabla::Tensor w;
//     void build(const nabla::keras::TensorShape& in) override { w = add_weight("w", {in.back()}, "ones"); }
//     nabla::Tensor call(const nabla::Tensor& x) override { return x * w; }
//   };
//
// Shapes are Keras tuples with the batch dim first: TensorShape{-1, 28, 28, 1} prints as
// "(None, 28, 28, 1)" (-1 stands for None). Images are channels-last (NHWC) at the API; image
// layers keep them channels-first internally between consecutive image layers (see Flow).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nabla/nn/module.h"
#include "nabla/tensor.h"

namespace nabla::keras {

/// A Keras shape: dims including the batch dim; -1 means None (unknown).
using TensorShape = std::vector<int64_t>;
/// "(None, 28, 28, 1)".
std::string shape_str(const TensorShape& shape);
/// Resets the automatic layer/model name counters ("dense", "dense_1", ...), like
/// keras.utils.clear_session().
void clear_session();

class Layer;

/// A symbolic tensor of the functional API: a shape and the layer call that produces it.
class KerasTensor {
 public:
  struct Node {
    std::shared_ptr<Layer> layer;
    std::vector<KerasTensor> inputs;
    TensorShape shape;
  };
  KerasTensor() = default;
  explicit KerasTensor(std::shared_ptr<Node> node) : node_(std::move(node)) {}
  const TensorShape& shape() const { return node_->shape; }
  const std::shared_ptr<Node>& node() const { return node_; }
  bool defined() const { return node_ != nullptr; }

 private:
  std::shared_ptr<Node> node_;
};

/// Internal: the value passed between layers. Image layers may hold a 4-d tensor channels-first
/// (`nchw`) to skip a transpose per layer; its Keras (API) layout is still NHWC.
struct Flow {
  Tensor t;
  bool nchw = false;
};
/// The channels-last view of a flow (a permute when it is held channels-first).
Tensor channels_last(const Flow& f);
/// The channels-first tensor of a 4-d flow.
Tensor channels_first(const Flow& f);

class Layer : public nn::Module, public std::enable_shared_from_this<Layer> {
 public:
  /// `type` is the Keras class name ("Dense"); `prefix` the automatic name's stem ("dense").
  /// An empty `name` takes the next automatic one: "dense", "dense_1", ...
  Layer(std::string type, const std::string& prefix, const std::string& name = "",
        TensorShape input_shape = {});

  /// The Keras name ("dense_1").
  const std::string& layer_name() const { return name_; }
  /// The Keras class name ("Dense"), shown in summary().
  const std::string& type() const { return type_; }
  std::string name() const override { return type_; }
  /// The input_shape given at construction (without the batch dim), empty when none.
  const TensorShape& declared_input_shape() const { return declared_input_shape_; }
  bool built() const { return built_; }
  /// Input and output shapes recorded when built (batch dim -1).
  const std::vector<TensorShape>& input_shapes() const { return input_shapes_; }
  const TensorShape& output_shape() const { return output_shape_; }

  // ---- what a layer defines -----------------------------------------------------------------
  /// Creates the weights for `input_shape` (called once, before the first call).
  virtual void build(const TensorShape& input_shape) {}
  /// The output shape for `input_shape`; throws nabla::Error when the input is unacceptable.
  /// Default: runs call() on a zero batch of 1 under no_grad.
  virtual TensorShape compute_output_shape(const TensorShape& input_shape);
  /// The forward computation on a channels-last tensor.
  virtual Tensor call(const Tensor& x);
  /// Layers taking several inputs (Concatenate, Add) override these three.
  virtual bool multi_input() const { return false; }
  virtual void build_multi(const std::vector<TensorShape>& shapes);
  virtual TensorShape compute_output_shape_multi(const std::vector<TensorShape>& shapes);
  virtual Tensor call_multi(const std::vector<Tensor>& xs);
  /// Internal forward with layout tags; image layers override it. Default: channels_last + call.
  virtual Flow call_flow(const std::vector<Flow>& in);

  // ---- building and calling -----------------------------------------------------------------
  /// Builds (once) for these input shapes and returns the output shape. Errors are rethrown as
  /// "<type> '<name>': ..." so they name the layer.
  TensorShape build_for(const std::vector<TensorShape>& input_shapes);
  /// Eager call on a real tensor (builds on the first call).
  Tensor forward(Tensor x) override;
  /// Functional API: records the call and infers the output shape.
  KerasTensor forward(const KerasTensor& x);
  KerasTensor forward(const std::vector<KerasTensor>& xs);

  // ---- weights ------------------------------------------------------------------------------
  /// Creates, registers and returns a weight. initializer: "glorot_uniform", "zeros", "ones",
  /// "uniform" (+-0.05), "normal" (std 0.05), "he_uniform", "he_normal", "glorot_normal".
  Tensor add_weight(const std::string& name, const Shape& shape, const std::string& initializer,
                    bool trainable = true);
  /// Parameters plus floating-point buffers (moving statistics), Keras's weight list.
  std::vector<Tensor> weights() const;
  /// Keras's param counts: trainable = parameters that require grad; non-trainable = the rest
  /// plus moving statistics.
  int64_t count_params() const;
  int64_t count_trainable_params() const;
  /// Freezes or unfreezes the layer's parameters (Keras's layer.trainable).
  void set_trainable(bool trainable);
  bool trainable() const { return trainable_; }
  /// Weights converted to Keras's layout (Dense kernel [in, out], Conv2D kernel [kh, kw, in, out])
  /// and back; the default is the identity.
  virtual Tensor to_keras_layout(size_t index, const Tensor& w) const { return w; }
  virtual Tensor from_keras_layout(size_t index, const Tensor& w) const { return w; }
  /// For the fused softmax / sigmoid losses: this layer's final activation ("softmax",
  /// "sigmoid", "linear", ...), and its output before that activation.
  virtual std::string final_activation() const { return "linear"; }
  virtual Flow call_flow_logits(const std::vector<Flow>& in) { return call_flow(in); }

 protected:
  /// Fills `t` in place with a Keras initializer (see add_weight).
  void initialize(Tensor t, const std::string& initializer) const;
  /// Throws "expected <what>, received <shape>" (layers use it in compute_output_shape).
  [[noreturn]] void shape_error(const std::string& expected, const TensorShape& received) const;

 private:
  std::string type_, name_;
  TensorShape declared_input_shape_;
  bool built_ = false;
  bool trainable_ = true;
  std::vector<TensorShape> input_shapes_;
  TensorShape output_shape_;
};

/// The handle type of the built-in layers (layers::Dense holds a DenseImpl); copies share the
/// layer. Called on a tensor it runs the layer; on a KerasTensor it records a functional call.
template <typename Impl>
class LayerHolder : public nn::ModuleHolder<Impl> {
 public:
  using nn::ModuleHolder<Impl>::ModuleHolder;
  using nn::ModuleHolder<Impl>::operator();
  /// Functional call on several inputs: layers::Concatenate()({a, b}).
  KerasTensor operator()(std::initializer_list<KerasTensor> xs) const {
    return this->get()->forward(std::vector<KerasTensor>(xs));
  }
};

/// Anything a model accepts as a layer: a layer handle, a shared_ptr to a Layer, or an Input.
class LayerRef {
 public:
  template <typename Impl>
  requires std::derived_from<Impl, Layer> LayerRef(const LayerHolder<Impl>& h) : layer_(h.ptr()) {}
  template <typename L>
  requires std::derived_from<L, Layer> LayerRef(std::shared_ptr<L> l) : layer_(std::move(l)) {}
  /// keras::Input(...) as the first entry of a Sequential.
  LayerRef(const KerasTensor& input);
  const std::shared_ptr<Layer>& get() const { return layer_; }

 private:
  std::shared_ptr<Layer> layer_;
};

}  // namespace nabla::keras
