// keras::Model::save: weights file or deployable bundle directory (nabla/deploy/export.h).
#include "keras/graph.h"
#include "nabla/creation.h"
#include "nabla/deploy/export.h"
#include "nabla/keras/model.h"

namespace nabla::keras {

void Model::save(const std::string& path) {
  const std::string ext = ".safetensors";
  if (path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
    save_weights(path);
    return;
  }
  NABLA_CHECK(built_, type_, " '", name_,
              "': save before the model is built (give an input shape or call it)");
  // Example inputs: zeros of each input's shape at batch 2 (only shapes and dtypes matter), in the
  // dtypes the model last ran on (int64 indices for an Embedding).
  const std::vector<DType> dtypes = input_dtypes_;
  std::vector<Tensor> examples;
  for (const TensorShape& s : input_shapes_) {
    std::vector<int64_t> dims(s.begin(), s.end());
    NABLA_CHECK(!dims.empty(), type_, " '", name_, "': save needs inputs with a batch dimension");
    dims[0] = 2;
    for (int64_t d : dims)
      NABLA_CHECK(d >= 0, type_, " '", name_, "': save needs fixed input sizes besides the batch, got ",
                  Shape(dims));
    const size_t i = examples.size();
    examples.push_back(zeros(Shape(dims), i < dtypes.size() ? dtypes[i] : kFloat32));
  }
  ExportOptions options;
  for (size_t i = 0; i < examples.size(); ++i)
    options.input_names.push_back(graph_ ? graph_->inputs.at(i)->layer->layer_name()
                                         : "input_" + std::to_string(i));
  for (size_t i = 0; i < num_outputs(); ++i) options.output_names.push_back(output_name(i));
  options.names_from = this;
  options.metadata = {{"keras_model", name_}, {"keras_type", type_}};
  const bool was_training = is_training();
  eval();
  try {
    export_model([this](const std::vector<Tensor>& in) { return call(in); }, examples, path, options);
  } catch (...) {
    train(was_training);
    throw;
  }
  train(was_training);
}

}  // namespace nabla::keras
