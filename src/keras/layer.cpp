// keras::Layer: naming, building, shape checks, eager and symbolic calls, weights.
#include "nabla/keras/layer.h"

#include <cmath>
#include <map>
#include <mutex>
#include <sstream>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/keras/layers/core.h"
#include "nabla/nn/init.h"

namespace nabla::keras {
namespace detail {
namespace {
std::mutex g_names_mutex;
std::map<std::string, int>& name_counters() {
  static std::map<std::string, int> counters;
  return counters;
}
}  // namespace

/// "dense", then "dense_1", "dense_2", ... (Keras's per-session uid per prefix).
std::string unique_name(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(g_names_mutex);
  int n = name_counters()[prefix]++;
  return n == 0 ? prefix : prefix + "_" + std::to_string(n);
}
}  // namespace detail

void clear_session() {
  std::lock_guard<std::mutex> lock(detail::g_names_mutex);
  detail::name_counters().clear();
}

std::string shape_str(const TensorShape& shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) os << ", ";
    if (shape[i] < 0)
      os << "None";
    else
      os << shape[i];
  }
  if (shape.size() == 1) os << ",";
  os << ")";
  return os.str();
}

Tensor channels_last(const Flow& f) { return f.nchw ? f.t.permute({0, 2, 3, 1}) : f.t; }
Tensor channels_first(const Flow& f) { return f.nchw ? f.t : f.t.permute({0, 3, 1, 2}); }

Layer::Layer(std::string type, const std::string& prefix, const std::string& name, TensorShape input_shape)
    : type_(std::move(type)),
      name_(name.empty() ? detail::unique_name(prefix) : name),
      declared_input_shape_(std::move(input_shape)) {}

void Layer::shape_error(const std::string& expected, const TensorShape& received) const {
  nabla::detail::throw_error("expected ", expected, ", received input shape ", shape_str(received));
}

TensorShape Layer::compute_output_shape(const TensorShape& in) {
  // Keras's fallback: run the layer on a dummy batch (batch dim and None dims taken as 1).
  Shape s;
  for (int64_t d : in) s.push_back(d < 0 ? 1 : d);
  NoGradGuard no_grad;
  Tensor y = call(zeros(s));
  TensorShape out(y.shape().begin(), y.shape().end());
  if (!out.empty()) out[0] = -1;
  return out;
}

Tensor Layer::call(const Tensor& x) {
  nabla::detail::throw_error(type_, " '", name_, "': this layer defines neither call() nor call_flow()");
}

void Layer::build_multi(const std::vector<TensorShape>& shapes) {}

TensorShape Layer::compute_output_shape_multi(const std::vector<TensorShape>& shapes) {
  NABLA_CHECK(shapes.size() == 1, "expected 1 input, received ", shapes.size());
  return compute_output_shape(shapes[0]);
}

Tensor Layer::call_multi(const std::vector<Tensor>& xs) {
  NABLA_CHECK(xs.size() == 1, type_, " '", name_, "': expected 1 input, received ", xs.size());
  return call(xs[0]);
}

Flow Layer::call_flow(const std::vector<Flow>& in) {
  if (multi_input()) {
    std::vector<Tensor> xs;
    for (const auto& f : in) xs.push_back(channels_last(f));
    return {call_multi(xs), false};
  }
  NABLA_CHECK(in.size() == 1, type_, " '", name_, "': expected 1 input, received ", in.size());
  return {call(channels_last(in[0])), false};
}

TensorShape Layer::build_for(const std::vector<TensorShape>& shapes) {
  try {
    if (!built_) {
      // Shape checks first, so a bad input never creates weights.
      TensorShape out =
          multi_input() ? compute_output_shape_multi(shapes) : compute_output_shape(shapes.at(0));
      if (multi_input())
        build_multi(shapes);
      else
        build(shapes[0]);
      if (!trainable_)
        for (auto& p : parameters()) p.set_requires_grad(false);
      built_ = true;
      input_shapes_ = shapes;
      output_shape_ = out;
      return out;
    }
    TensorShape out = multi_input() ? compute_output_shape_multi(shapes) : compute_output_shape(shapes.at(0));
    return out;
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind(type_ + " '", 0) == 0) throw;  // already names this layer
    throw Error(type_ + " '" + name_ + "': " + msg);
  }
}

Tensor Layer::forward(Tensor x) {
  if (!built_) {
    TensorShape s(x.shape().begin(), x.shape().end());
    if (!s.empty()) s[0] = -1;
    build_for({s});
  }
  return channels_last(call_flow({Flow{x, false}})).contiguous();
}

KerasTensor Layer::forward(const KerasTensor& x) { return forward(std::vector<KerasTensor>{x}); }

KerasTensor Layer::forward(const std::vector<KerasTensor>& xs) {
  std::vector<TensorShape> shapes;
  for (const auto& x : xs) {
    NABLA_CHECK(x.defined(), type_, " '", name_, "': called on an empty KerasTensor");
    shapes.push_back(x.shape());
  }
  TensorShape out = build_for(shapes);
  std::shared_ptr<Layer> self;
  try {
    self = shared_from_this();
  } catch (const std::bad_weak_ptr&) {
    nabla::detail::throw_error(type_, " '", name_,
                               "': a layer used in a functional model must be owned by a "
                               "std::shared_ptr (use the layers:: handles or std::make_shared)");
  }
  return KerasTensor(std::make_shared<KerasTensor::Node>(KerasTensor::Node{self, xs, out}));
}

void Layer::initialize(Tensor t, const std::string& initializer) const {
  NoGradGuard no_grad;
  if (initializer == "zeros")
    t.zero_();
  else if (initializer == "ones")
    t.fill_(1);
  else if (initializer == "glorot_uniform")
    nn::init::xavier_uniform_(t);
  else if (initializer == "glorot_normal")
    nn::init::xavier_normal_(t);
  else if (initializer == "he_uniform")
    nn::init::kaiming_uniform_(t, 0.0, "fan_in", "relu");
  else if (initializer == "he_normal")
    nn::init::kaiming_normal_(t, 0.0, "fan_in", "relu");
  else if (initializer == "uniform")
    nn::init::uniform_(t, -0.05, 0.05);
  else if (initializer == "normal")
    nn::init::normal_(t, 0.0, 0.05);
  else
    nabla::detail::throw_error(type_, " '", name_, "': unknown initializer '", initializer,
                               "' (expected glorot_uniform, glorot_normal, he_uniform, he_normal, "
                               "uniform, normal, zeros or ones)");
}

Tensor Layer::add_weight(const std::string& name, const Shape& shape, const std::string& initializer,
                         bool trainable) {
  Tensor t = empty(shape);
  initialize(t, initializer);
  if (trainable) return register_parameter(name, t);
  return register_buffer(name, t);
}

std::vector<Tensor> Layer::weights() const {
  std::vector<Tensor> w = parameters();
  for (auto& b : buffers())
    if (b.is_floating_point()) w.push_back(b);
  return w;
}

int64_t Layer::count_params() const {
  int64_t n = 0;
  for (auto& w : weights()) n += w.numel();
  return n;
}

int64_t Layer::count_trainable_params() const {
  int64_t n = 0;
  for (auto& p : parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

void Layer::set_trainable(bool trainable) {
  trainable_ = trainable;
  for (auto& p : parameters()) p.set_requires_grad(trainable);
}

LayerRef::LayerRef(const KerasTensor& input) {
  NABLA_CHECK(input.defined() && input.node()->inputs.empty(),
              "Sequential: only keras::Input(...) tensors may be given as layers");
  layer_ = input.node()->layer;
}

}  // namespace nabla::keras
