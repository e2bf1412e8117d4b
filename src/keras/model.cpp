// keras::Model: functional graphs (construction, topological order, execution), layer lookup and
// Keras-ordered weights.
#include "nabla/keras/model.h"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_set>

#include "keras/graph.h"
#include "nabla/autograd.h"
#include "nabla/io/safetensors.h"

namespace nabla::keras {
namespace detail {
std::string unique_name(const std::string& prefix);  // layer.cpp
}

Model::Model(std::string type, const std::string& prefix, const std::string& name)
    : type_(std::move(type)), name_(name.empty() ? detail::unique_name(prefix) : name) {}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

Model::Model(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, const std::string& name)
    : Model("Functional", "functional", name) {
  NABLA_CHECK(!inputs.empty() && !outputs.empty(), "Model '", name_,
              "': needs at least one input and one output");
  graph_ = std::make_unique<Graph>();
  std::unordered_set<const KerasTensor::Node*> input_set;
  for (const auto& in : inputs) {
    NABLA_CHECK(in.defined() && in.node()->inputs.empty(), "Model '", name_,
                "': inputs must be keras::Input(...) tensors");
    graph_->inputs.push_back(in.node());
    input_set.insert(in.node().get());
    input_shapes_.push_back(in.shape());
  }
  // Depth-first from the outputs; a node is placed after all the nodes it reads.
  std::unordered_set<const KerasTensor::Node*> done, active;
  std::function<void(const Graph::NodePtr&)> visit = [&](const Graph::NodePtr& n) {
    if (done.count(n.get())) return;
    NABLA_CHECK(!active.count(n.get()), "Model '", name_, "': the layer graph has a cycle");
    if (n->inputs.empty())
      NABLA_CHECK(input_set.count(n.get()), "Model '", name_, "': output depends on the input '",
                  n->layer->layer_name(), "', which is not among the model's inputs");
    active.insert(n.get());
    for (const auto& in : n->inputs) {
      visit(in.node());
      graph_->consumers[in.node().get()]++;
    }
    active.erase(n.get());
    done.insert(n.get());
    graph_->order.push_back(n);
  };
  for (const auto& out : outputs) {
    NABLA_CHECK(out.defined(), "Model '", name_, "': an output is an empty KerasTensor");
    visit(out.node());
    graph_->outputs.push_back(out.node());
  }
  // Model inputs that no output depends on still come first, in the given order.
  for (const auto& in : graph_->inputs)
    if (!done.count(in.get())) graph_->order.insert(graph_->order.begin(), in);
  std::stable_partition(graph_->order.begin(), graph_->order.end(),
                        [](const Graph::NodePtr& n) { return n->inputs.empty(); });
  std::unordered_set<const Layer*> seen;
  for (const auto& n : graph_->order) {
    if (seen.insert(n->layer.get()).second)
      add_layer(n->layer);
    else
      graph_->sequential_like = false;  // a shared layer
    if (n->inputs.size() > 1) graph_->sequential_like = false;
  }
  for (const auto& [node, count] : graph_->consumers)
    if (count > 1) graph_->sequential_like = false;
  if (graph_->inputs.size() > 1 || graph_->outputs.size() > 1) graph_->sequential_like = false;
  built_ = true;
}

void Model::add_layer(const std::shared_ptr<Layer>& layer) {
  for (const auto& l : layers_)
    NABLA_CHECK(l->layer_name() != layer->layer_name(), type_, " '", name_, "': two layers are named '",
                layer->layer_name(), "'; layer names must be unique within a model");
  layers_.push_back(layer);
  register_module(layer->layer_name(), std::static_pointer_cast<nn::Module>(layer));
}

std::shared_ptr<Layer> Model::get_layer(const std::string& name) const {
  std::string names;
  for (const auto& l : layers_) {
    if (l->layer_name() == name) return l;
    names += (names.empty() ? "" : ", ") + l->layer_name();
  }
  nabla::detail::throw_error(type_, " '", name_, "': no layer named '", name, "' (layers: ", names, ")");
}

void Model::check_inputs(const std::vector<Tensor>& xs) const {
  NABLA_CHECK(xs.size() == input_shapes_.size(), type_, " '", name_, "': expected ", input_shapes_.size(),
              " input(s), received ", xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto& want = input_shapes_[i];
    bool ok = xs[i].defined() && xs[i].dim() == int(want.size());
    for (size_t d = 1; ok && d < want.size(); ++d)
      if (want[d] >= 0 && want[d] != xs[i].size(d)) ok = false;
    if (!ok) {
      TensorShape got;
      if (xs[i].defined()) got.assign(xs[i].shape().begin(), xs[i].shape().end());
      nabla::detail::throw_error(type_, " '", name_, "': expected input ", i, " of shape ", shape_str(want),
                                 ", received ", shape_str(got));
    }
  }
  input_dtypes_.clear();
  for (const Tensor& x : xs) input_dtypes_.push_back(x.dtype());
}

void Model::build_from(const std::vector<TensorShape>&) {}

size_t Model::num_outputs() const { return graph_ ? graph_->outputs.size() : 1; }

std::string Model::output_name(size_t i) const {
  if (graph_) return graph_->outputs.at(i)->layer->layer_name();
  return layers_.empty() ? "output" : layers_.back()->layer_name();
}

std::vector<Flow> Model::run(const std::vector<Tensor>& xs, const std::vector<bool>& logits) {
  std::unordered_map<const KerasTensor::Node*, Flow> values;
  for (size_t i = 0; i < graph_->inputs.size(); ++i) values[graph_->inputs[i].get()] = Flow{xs[i], false};
  // The logits path applies to outputs that no other layer reads (output_activation says
  // "linear" for the others, so fit never asks for them).
  std::unordered_map<const KerasTensor::Node*, bool> want_logits;
  for (size_t i = 0; i < logits.size() && i < graph_->outputs.size(); ++i)
    if (logits[i] && !graph_->consumers.count(graph_->outputs[i].get()))
      want_logits[graph_->outputs[i].get()] = true;
  std::vector<Flow> in;
  for (const auto& n : graph_->order) {
    if (n->inputs.empty()) continue;
    in.clear();
    for (const auto& i : n->inputs) in.push_back(values.at(i.node().get()));
    values[n.get()] = want_logits.count(n.get()) ? n->layer->call_flow_logits(in) : n->layer->call_flow(in);
  }
  std::vector<Flow> out;
  for (const auto& n : graph_->outputs) out.push_back(values.at(n.get()));
  return out;
}

std::string Model::output_activation(size_t i) const {
  if (!graph_ || i >= graph_->outputs.size() || graph_->consumers.count(graph_->outputs[i].get()))
    return "linear";
  return graph_->outputs[i]->layer->final_activation();
}

std::vector<Tensor> Model::call(const std::vector<Tensor>& inputs) {
  if (!built_) {
    std::vector<TensorShape> shapes;
    for (const auto& x : inputs) {
      TensorShape s(x.shape().begin(), x.shape().end());
      if (!s.empty()) s[0] = -1;
      shapes.push_back(s);
    }
    build_from(shapes);
  }
  check_inputs(inputs);
  std::vector<Tensor> out;
  for (auto& f : run(inputs, {})) out.push_back(channels_last(f).contiguous());
  return out;
}

Tensor Model::forward(Tensor x) { return call({std::move(x)})[0]; }

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> out;
  for (const auto& l : layers_) {
    auto ws = l->weights();
    for (size_t i = 0; i < ws.size(); ++i) {
      Tensor w = ws[i].detach();
      Tensor k = l->to_keras_layout(i, w);
      out.push_back(k.shares_storage_with(w) ? k.clone() : k);
    }
  }
  return out;
}

void Model::set_weights(const std::vector<Tensor>& weights) {
  size_t total = 0;
  for (const auto& l : layers_) total += l->weights().size();
  NABLA_CHECK(weights.size() == total, type_, " '", name_, "': set_weights expected ", total,
              " weight tensors, received ", weights.size());
  // Check every shape before changing anything.
  size_t k = 0;
  for (const auto& l : layers_) {
    auto ws = l->weights();
    for (size_t i = 0; i < ws.size(); ++i, ++k) {
      Shape want = l->to_keras_layout(i, ws[i].detach()).shape();
      NABLA_CHECK(weights[k].defined() && weights[k].shape() == want, type_, " '", name_,
                  "': set_weights: layer '", l->layer_name(), "' weight ", i, " expected shape ", want,
                  ", received ", weights[k].defined() ? weights[k].shape() : Shape{});
    }
  }
  NoGradGuard no_grad;
  k = 0;
  for (const auto& l : layers_) {
    auto ws = l->weights();
    for (size_t i = 0; i < ws.size(); ++i, ++k) ws[i].copy_(l->from_keras_layout(i, weights[k]));
  }
}

void Model::save_weights(const std::string& path) const {
  NABLA_CHECK(built_, type_, " '", name_,
              "': save_weights before the model is built (it has no weights yet)");
  nabla::save(state_dict(), path, {{"format", "nabla.keras"}, {"model", name_}});
}

void Model::load_weights(const std::string& path) {
  NABLA_CHECK(built_, type_, " '", name_,
              "': build the model (give an input shape or call it) before load_weights");
  nabla::load_into(*this, path);
}

int64_t Model::count_params() const {
  int64_t n = 0;
  for (const auto& l : layers_) n += l->count_params();
  return n;
}

}  // namespace nabla::keras
