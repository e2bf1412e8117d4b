// Exporting a model as a self-contained bundle that nabla::load_model (nabla::inference) runs
// without the model's code.
//
//   model->eval();
//   nabla::export_model(*model, {torch_like_example_batch}, "mnist_bundle");
//   nabla::LoadedModel m = nabla::load_model("mnist_bundle");   // later, anywhere
//
// The model is traced (jit::trace, no autograd) at three batch sizes derived from the example: a
// size that is c + k*N in all three is stored symbolically, so the bundle accepts any batch size.
// A model whose graph changes with the batch size in any other way is stored for the example's
// batch size only (Signature::symbolic_batch = false). The bundle is written atomically.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nabla/deploy/loaded_model.h"
#include "nabla/jit.h"
#include "nabla/nn/module.h"

namespace nabla {

struct ExportOptions {
  /// Names of the inputs / outputs in the signature (default input_0.., output_0..).
  std::vector<std::string> input_names, output_names;
  /// Set false to store the example's batch size only.
  bool symbolic_batch = true;
  /// Extra key/value pairs for bundle.json's metadata.
  std::map<std::string, std::string> metadata;
  /// Names the weights after this module's parameters and buffers (export of a function that
  /// calls a module); export_model(module, ...) sets it itself.
  const nn::Module* names_from = nullptr;
};

/// Traces module.forward (in its current train/eval mode: call eval() first) and writes a bundle.
void export_model(nn::Module& module, const std::vector<Tensor>& example_inputs, const std::string& dir,
                  const ExportOptions& options = {});
/// Same for any function of tensors (its captured tensors become weights named "param/<id>").
void export_model(const jit::Fn& fn, const std::vector<Tensor>& example_inputs, const std::string& dir,
                  const ExportOptions& options = {});

}  // namespace nabla
