// Core Keras layers over nn modules: Input, Dense, Activation, Dropout, Flatten, Reshape,
// Embedding, Concatenate, Add.
#include <numeric>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/keras/activations.h"
#include "nabla/keras/layers/core.h"
#include "nabla/nn/init.h"
#include "nabla/ops.h"

namespace nabla::keras {
namespace {
TensorShape with_batch(const TensorShape& s) {
  TensorShape out{-1};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}
}  // namespace

KerasTensor Input(const TensorShape& shape, const std::string& name) {
  auto layer = std::make_shared<layers::InputLayerImpl>(shape, name);
  TensorShape full = with_batch(shape);
  layer->build_for({full});
  return KerasTensor(std::make_shared<KerasTensor::Node>(KerasTensor::Node{layer, {}, full}));
}

namespace layers {

InputLayerImpl::InputLayerImpl(const TensorShape& shape, const std::string& name)
    : Layer("InputLayer", "input_layer", name, shape) {}

TensorShape InputLayerImpl::compute_output_shape(const TensorShape& in) { return in; }

// ---- Dense -----------------------------------------------------------------------------------
DenseImpl::DenseImpl(int64_t units, const std::string& activation, const DenseOptions& o)
    : Layer("Dense", "dense", o.name, o.input_shape),
      units(units),
      activation(activations::canonical(activation)),
      options(o) {
  NABLA_CHECK(units > 0, "Dense: units must be positive, got ", units);
  activations::get(this->activation);  // validates the name now, not at the first call
}

TensorShape DenseImpl::compute_output_shape(const TensorShape& in) {
  if (in.size() < 2) shape_error("an input of rank >= 2 (batch, ..., features)", in);
  if (in.back() <= 0) shape_error("a known last dimension (features)", in);
  if (linear && linear->options.in != in.back())
    shape_error("last dimension " + std::to_string(linear->options.in) + " (built for " +
                    shape_str(input_shapes()[0]) + ")",
                in);
  TensorShape out = in;
  out.back() = units;
  return out;
}

void DenseImpl::build(const TensorShape& in) {
  linear = nn::Linear(nn::LinearImpl::Options{in.back(), units, options.use_bias});
  register_module("linear", linear);
  // Keras initialisers: the kernel's fans are (in, out) in either layout.
  initialize(linear->weight, options.kernel_initializer);
  if (options.use_bias) initialize(linear->bias, options.bias_initializer);
}

Tensor DenseImpl::call(const Tensor& x) { return activations::get(activation)(linear(x)); }

Flow DenseImpl::call_flow_logits(const std::vector<Flow>& in) {
  return {linear(channels_last(in.at(0))), false};
}

Tensor DenseImpl::to_keras_layout(size_t i, const Tensor& w) const { return i == 0 ? w.t().contiguous() : w; }
Tensor DenseImpl::from_keras_layout(size_t i, const Tensor& w) const {
  return i == 0 ? w.t().contiguous() : w;
}

// ---- Activation, Dropout -----------------------------------------------------------------------
ActivationImpl::ActivationImpl(const std::string& act, const LayerOptions& o)
    : Layer("Activation", "activation", o.name, o.input_shape), activation(activations::canonical(act)) {
  activations::get(activation);
}

Tensor ActivationImpl::call(const Tensor& x) { return activations::get(activation)(x); }

Flow ActivationImpl::call_flow(const std::vector<Flow>& in) {
  // Softmax-like activations act on the last (channels) axis: use the Keras layout for them.
  if (in[0].nchw && (activation == "softmax" || activation == "log_softmax"))
    return {call(channels_last(in[0])), false};
  return {activations::get(activation)(in[0].t), in[0].nchw};
}

DropoutImpl::DropoutImpl(double rate, const LayerOptions& o)
    : Layer("Dropout", "dropout", o.name, o.input_shape), rate(rate), dropout(nullptr) {
  NABLA_CHECK(rate >= 0 && rate < 1, "Dropout: rate must be in [0, 1), got ", rate);
  dropout = nn::Dropout(rate);
  register_module("dropout", dropout);
}

// ---- Flatten, Reshape ------------------------------------------------------------------------
FlattenImpl::FlattenImpl(const LayerOptions& o) : Layer("Flatten", "flatten", o.name, o.input_shape) {}

TensorShape FlattenImpl::compute_output_shape(const TensorShape& in) {
  if (in.size() < 1) shape_error("an input with a batch dimension", in);
  int64_t n = 1;
  for (size_t i = 1; i < in.size(); ++i) n = (in[i] < 0 || n < 0) ? -1 : n * in[i];
  return {in[0], n};
}

Tensor FlattenImpl::call(const Tensor& x) { return x.dim() == 1 ? x.unsqueeze(1) : x.flatten(1); }

ReshapeImpl::ReshapeImpl(const TensorShape& target, const LayerOptions& o)
    : Layer("Reshape", "reshape", o.name, o.input_shape), target_shape(target) {
  NABLA_CHECK(std::count(target.begin(), target.end(), -1) <= 1,
              "Reshape: at most one dimension of target_shape may be -1, got ", shape_str(target));
}

TensorShape ReshapeImpl::compute_output_shape(const TensorShape& in) {
  int64_t n = 1;
  for (size_t i = 1; i < in.size(); ++i) n *= in[i];
  int64_t known = 1, unknown = -1;
  for (size_t i = 0; i < target_shape.size(); ++i)
    if (target_shape[i] == -1)
      unknown = static_cast<int64_t>(i);
    else
      known *= target_shape[i];
  TensorShape out{in.empty() ? -1 : in[0]};
  out.insert(out.end(), target_shape.begin(), target_shape.end());
  if (n < 0) return out;  // None dims: resolved at call time
  if (unknown >= 0) {
    if (known == 0 || n % known != 0)
      shape_error("a sample size divisible by " + std::to_string(known) + " for target_shape " +
                      shape_str(target_shape),
                  in);
    out[unknown + 1] = n / known;
  } else if (known != n) {
    shape_error(std::to_string(known) + " values per sample for target_shape " + shape_str(target_shape), in);
  }
  return out;
}

Tensor ReshapeImpl::call(const Tensor& x) {
  Shape s{x.size(0)};
  for (int64_t d : target_shape) s.push_back(d);
  return x.reshape(s);
}

// ---- Embedding -----------------------------------------------------------------------------
EmbeddingImpl::EmbeddingImpl(int64_t input_dim, int64_t output_dim, const EmbeddingOptions& o)
    : Layer("Embedding", "embedding", o.name, o.input_shape),
      input_dim(input_dim),
      output_dim(output_dim),
      embedding(nn::Embedding(input_dim, output_dim)) {
  register_module("embedding", embedding);
  initialize(embedding->weight, o.embeddings_initializer);
}

TensorShape EmbeddingImpl::compute_output_shape(const TensorShape& in) {
  TensorShape out = in;
  out.push_back(output_dim);
  return out;
}

Tensor EmbeddingImpl::call(const Tensor& x) {
  return embedding(x.dtype() == kInt64 ? x : x.to(kInt64));  // Keras casts float indices
}

// ---- merge layers --------------------------------------------------------------------------
ConcatenateImpl::ConcatenateImpl(int64_t axis, const std::string& name)
    : Layer("Concatenate", "concatenate", name), axis(axis) {}

TensorShape ConcatenateImpl::compute_output_shape_multi(const std::vector<TensorShape>& shapes) {
  NABLA_CHECK(shapes.size() >= 2, "expected at least 2 inputs, received ", shapes.size());
  const size_t rank = shapes[0].size();
  const int64_t ax = axis < 0 ? axis + int64_t(rank) : axis;
  NABLA_CHECK(ax >= 1 && ax < int64_t(rank), "axis ", axis, " is out of range for inputs of rank ", rank);
  TensorShape out = shapes[0];
  for (size_t k = 1; k < shapes.size(); ++k) {
    const auto& s = shapes[k];
    bool ok = s.size() == rank;
    for (size_t i = 0; ok && i < rank; ++i)
      if (int64_t(i) != ax && s[i] != out[i] && s[i] >= 0 && out[i] >= 0) ok = false;
    NABLA_CHECK(ok, "expected inputs that match except along axis ", axis, ", received shapes ",
                shape_str(shapes[0]), " and ", shape_str(s));
    out[ax] = (out[ax] < 0 || s[ax] < 0) ? -1 : out[ax] + s[ax];
  }
  return out;
}

Tensor ConcatenateImpl::call_multi(const std::vector<Tensor>& xs) {
  return cat(xs, axis < 0 ? axis + xs[0].dim() : axis);
}

AddImpl::AddImpl(const std::string& name) : Layer("Add", "add", name) {}

TensorShape AddImpl::compute_output_shape_multi(const std::vector<TensorShape>& shapes) {
  NABLA_CHECK(shapes.size() >= 2, "expected at least 2 inputs, received ", shapes.size());
  for (const auto& s : shapes)
    NABLA_CHECK(s == shapes[0], "expected inputs of equal shape, received ", shape_str(shapes[0]), " and ",
                shape_str(s));
  return shapes[0];
}

Tensor AddImpl::call_multi(const std::vector<Tensor>& xs) {
  Tensor y = xs[0];
  for (size_t i = 1; i < xs.size(); ++i) y = y + xs[i];
  return y;
}

}  // namespace layers
}  // namespace nabla::keras
