#include "autograd/node.h"

#include <atomic>

#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla {

namespace {
thread_local bool t_grad_enabled = true;
}
bool GradMode::is_enabled() { return t_grad_enabled; }
void GradMode::set_enabled(bool enabled) { t_grad_enabled = enabled; }

namespace autograd {

uint64_t next_sequence_nr() {
  static std::atomic<uint64_t> seq{0};
  return seq.fetch_add(1, std::memory_order_relaxed);
}

std::string node_name(const Node& node) { return node.name(); }

Edge gradient_edge(const Tensor& t) {
  const auto& impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, nullptr, impl->output_nr};
  if (impl->requires_grad) return {nullptr, impl, 0};
  return {};
}

namespace {
// A second handle on the same data without autograd history.
Tensor alias_without_history(const Tensor& t) {
  auto impl = std::make_shared<detail::TensorImpl>();
  const auto& src = *t.impl();
  impl->storage = src.storage;
  impl->shape = src.shape;
  impl->strides = src.strides;
  impl->offset = src.offset;
  impl->dtype = src.dtype;
  impl->is_view = src.is_view;
  return Tensor(std::move(impl));
}
}  // namespace

SavedTensor::SavedTensor(const Tensor& t, bool is_output)
    : data_(is_output ? alias_without_history(t) : t),
      version_(t.version()),
      output_nr_(t.impl()->output_nr),
      is_output_(is_output),
      requires_grad_(t.requires_grad()) {}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner, const char* op) const {
  uint32_t now = data_.version();
  NABLA_CHECK(now == version_, op,
              ": one of the tensors needed for the gradient computation has been modified by an in-place "
              "operation (it was saved at version ",
              version_, " and is now at version ", now,
              "); use an out-of-place op or clone() the tensor before modifying it");
  if (!is_output_ || !requires_grad_) return data_;
  Tensor t = alias_without_history(data_);
  t.impl()->grad_fn = owner;
  t.impl()->output_nr = output_nr_;
  t.impl()->requires_grad = true;
  return t;
}

std::vector<Tensor> OpNode::apply(std::vector<Tensor>&& grad_outputs) {
  const ops::OpDef& def = ops::op_def(op);
  NABLA_CHECK(!released || !(def.save_inputs || def.save_outputs), def.name,
              ": trying to backward through the graph a second time; its saved tensors were freed "
              "after the first backward. Pass retain_graph=true to the first backward.");
  int n = static_cast<int>(next.size());
  int nout = static_cast<int>(output_meta.size());
  auto self = shared_from_this();
  std::vector<Tensor> inputs(n), outputs(nout);
  for (size_t i = 0; i < saved_inputs.size(); ++i)
    if (saved_inputs[i].defined()) inputs[i] = saved_inputs[i].unpack(self, def.name);
  for (size_t j = 0; j < saved_outputs.size(); ++j)
    if (saved_outputs[j].defined()) outputs[j] = saved_outputs[j].unpack(self, def.name);
  // Integer outputs (max_pool2d's argmax indices, ...) carry no gradient: no zeros are made for them.
  for (int j = 0; j < nout; ++j)
    if (!grad_outputs[j].defined() && is_floating(output_meta[j].dtype))
      grad_outputs[j] = zeros(output_meta[j].shape, output_meta[j].dtype);
  std::unique_ptr<bool[]> needs(new bool[n]);
  for (int i = 0; i < n; ++i) needs[i] = next[i].valid();
  std::vector<Tensor> grads(n);
  ops::VjpArgs args{inputs.data(), input_meta.data(), n, outputs.data(), grad_outputs.data(), nout,
                    attrs,         needs.get()};
  def.vjp(args, grads.data());
  for (int i = 0; i < n; ++i) {
    if (!needs[i] || !grads[i].defined()) continue;
    // Broadcasting and type promotion are undone here once, so VJP rules need not do it.
    if (grads[i].shape() != input_meta[i].shape) grads[i] = sum_to(grads[i], input_meta[i].shape);
    if (grads[i].dtype() != input_meta[i].dtype) grads[i] = grads[i].to(input_meta[i].dtype);
  }
  return grads;
}

void OpNode::release() {
  released = true;
  saved_inputs.clear();
  saved_outputs.clear();
}

}  // namespace autograd
}  // namespace nabla
