// keras::Sequential: shape inference at construction (with an input shape) or on the first call.
#include "nabla/keras/sequential.h"

#include "graph/trace.h"
#include "nabla/keras/layers/convolutional.h"
#include "nabla/keras/layers/core.h"
#include "nabla/ops.h"

namespace nabla::keras {

Sequential::Sequential(const std::string& name) : Model("Sequential", "sequential", name) {}

Sequential::Sequential(std::initializer_list<LayerRef> layers, const std::string& name)
    : Sequential(std::vector<LayerRef>(layers), name) {}

Sequential::Sequential(const std::vector<LayerRef>& layers, const std::string& name) : Sequential(name) {
  for (const auto& l : layers) add(l);
}

void Sequential::add(const LayerRef& ref) {
  const auto& layer = ref.get();
  NABLA_CHECK(layer != nullptr, "Sequential '", name_, "': add() got an empty layer");
  if (auto* input = dynamic_cast<layers::InputLayerImpl*>(layer.get())) {
    NABLA_CHECK(layers_.empty() && input_shapes_.empty(), "Sequential '", name_,
                "': an Input may only come first");
    build(input->declared_input_shape());
    return;
  }
  const size_t index = layers_.size();
  add_layer(layer);
  if (built_) {
    try {
      output_shape_ = layer->build_for({output_shape_});
    } catch (const Error& e) {
      layers_.pop_back();
      children_.erase(layer->layer_name());
      nabla::detail::throw_error("Sequential '", name_, "': layer ", index, " '", layer->layer_name(), "' (",
                                 layer->type(), ") cannot take the previous output: ", e.what());
    }
  } else if (index == 0 && !layer->declared_input_shape().empty()) {
    build(layer->declared_input_shape());
  }
}

void Sequential::pop() {
  NABLA_CHECK(!layers_.empty(), "Sequential '", name_, "': pop() on a model without layers");
  children_.erase(layers_.back()->layer_name());
  layers_.pop_back();
  output_shape_ = layers_.empty() ? (input_shapes_.empty() ? TensorShape{} : input_shapes_[0])
                                  : layers_.back()->output_shape();
}

void Sequential::build(const TensorShape& input_shape) {
  TensorShape shape{-1};
  shape.insert(shape.end(), input_shape.begin(), input_shape.end());
  for (size_t i = 0; i < layers_.size(); ++i) {
    try {
      shape = layers_[i]->build_for({shape});
    } catch (const Error& e) {
      nabla::detail::throw_error("Sequential '", name_, "': layer ", i, " '", layers_[i]->layer_name(), "' (",
                                 layers_[i]->type(), ") cannot take its input: ", e.what());
    }
  }
  input_shapes_ = {TensorShape{-1}};
  input_shapes_[0].insert(input_shapes_[0].end(), input_shape.begin(), input_shape.end());
  output_shape_ = shape;
  built_ = true;
}

void Sequential::build_from(const std::vector<TensorShape>& shapes) {
  NABLA_CHECK(shapes.size() == 1, "Sequential '", name_, "': expected 1 input, received ", shapes.size());
  NABLA_CHECK(!layers_.empty(), "Sequential '", name_, "': the model has no layers");
  build(TensorShape(shapes[0].begin() + 1, shapes[0].end()));
}

TensorShape Sequential::output_shape() const {
  NABLA_CHECK(built_, "Sequential '", name_,
              "': the model is not built yet (give an input_shape or call it)");
  return output_shape_;
}

std::vector<Flow> Sequential::run(const std::vector<Tensor>& xs, const std::vector<bool>& logits_per_output) {
  const bool logits = !logits_per_output.empty() && logits_per_output[0];
  Flow f{xs[0], false};
  std::vector<Flow> in(1);
  const size_t n = layers_.size();
  for (size_t i = 0; i < n; ++i) {
    in[0] = std::move(f);
    // Conv2D(activation="relu") then MaxPooling2D. Eagerly, where neither needs a separate pad
    // op, all three run as one conv2d_relu_max_pool2d (as in nn::Sequential: the conv output is
    // pooled in cache, the backward visits only the winners). Otherwise, and while a graph is
    // traced (its passes make the same fusion after autodiff; exports keep standard ops), the
    // pool takes the ReLU (relu_max_pool2d).
    auto* conv = dynamic_cast<layers::Conv2DImpl*>(layers_[i].get());
    auto* pool = i + 1 < n ? dynamic_cast<layers::Pooling2DImpl*>(layers_[i + 1].get()) : nullptr;
    if (conv && pool && pool->max && conv->options.activation == "relu" && !(logits && i + 2 == n)) {
      if (graph::active_tracer() == nullptr && pool->options.padding == "valid" && conv->pads_inside_conv()) {
        f = conv->call_flow_relu_max_pool(in, pool->window());
      } else {
        in[0] = conv->call_flow_logits(in);
        f = pool->call_flow_after_relu(in);
      }
      ++i;
      continue;
    }
    f = (logits && i + 1 == n) ? layers_[i]->call_flow_logits(in) : layers_[i]->call_flow(in);
  }
  return {f};
}

std::string Sequential::output_activation(size_t) const {
  return layers_.empty() ? "linear" : layers_.back()->final_activation();
}

}  // namespace nabla::keras
