// keras::Sequential: a plain stack of layers, Keras style.
//   using namespace nabla::keras;
//   auto model = Sequential({
//       layers::Dense(64, "relu", {.input_shape = {784}}),
//       layers::Dense(64, "relu"),
//       layers::Dense(10, "softmax"),
//   });
//   model.summary();    // Keras's table: 50,240 / 4,160 / 650 params, total 55,050
// With an input shape (on the first layer, or a keras::Input first) every output shape is known at
// construction and a layer that cannot take its input throws nabla::Error naming the layer, its
// index, the expected and the received shape. Without one, the model builds on its first call
// (or fit/evaluate/predict).
#pragma once
#include <initializer_list>
#include <string>
#include <vector>

#include "nabla/keras/model.h"

namespace nabla::keras {

class Sequential : public Model {
 public:
  explicit Sequential(const std::string& name = "");
  Sequential(std::initializer_list<LayerRef> layers, const std::string& name = "");
  explicit Sequential(const std::vector<LayerRef>& layers, const std::string& name = "");

  /// Appends a layer (checked against the current output shape when the model is built).
  void add(const LayerRef& layer);
  /// Removes the last layer.
  void pop();
  /// Builds for input_shape (without the batch dim).
  void build(const TensorShape& input_shape);
  /// The output shape (batch dim -1); throws before the model is built.
  TensorShape output_shape() const;

 protected:
  std::vector<Flow> run(const std::vector<Tensor>& inputs, const std::vector<bool>& logits) override;
  void build_from(const std::vector<TensorShape>& input_shapes) override;
  std::string output_activation(size_t i) const override;
  std::vector<std::vector<std::string>> summary_rows(bool& connected) const override;

 private:
  TensorShape output_shape_;
};

}  // namespace nabla::keras
