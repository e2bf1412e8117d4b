// keras::activations: Keras's activation names as functions over the last axis where it matters.
//   auto f = nabla::keras::activations::get("relu");   y = f(x);
// Names: "linear" (or ""), "relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "silu" /
// "swish", "elu", "selu", "softplus", "softsign", "leaky_relu", "exponential", "relu6",
// "hard_sigmoid".
#pragma once
#include <string>

#include "nabla/tensor.h"

namespace nabla::keras::activations {

using Fn = Tensor (*)(const Tensor&);
/// The activation called `name`; throws nabla::Error listing the valid names otherwise.
Fn get(const std::string& name);
/// The canonical name ("" -> "linear", "swish" -> "silu").
std::string canonical(const std::string& name);

}  // namespace nabla::keras::activations
