// The one path every op takes: infer -> allocate (or alias for views) -> kernel -> autograd node.
// Kept free of maps, std::function, string formatting and exceptions on the success path.
#include <memory>

#include "autograd/node.h"
#include "graph/trace.h"
#include "nabla/autograd.h"
#include "ops/registry.h"

namespace nabla::ops {
namespace {

constexpr int kMaxOutputs = 8;

Tensor allocate(const TensorMeta& m, Device device) {
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = detail::allocate_storage(m.shape.numel() * dtype_size(m.dtype), device);
  impl->shape = m.shape;
  impl->strides = contiguous_strides(m.shape);
  impl->dtype = m.dtype;
  return Tensor(std::move(impl));
}

Tensor make_view(const OpDef& def, const Tensor& base, const Attrs& attrs, const TensorMeta& m) {
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->shape = m.shape;
  impl->dtype = m.dtype;
  impl->is_view = true;
  def.view(base, attrs, m.shape, impl->strides, impl->offset);
  return Tensor(std::move(impl));
}

Device common_device(const OpDef& def, const Tensor* in, int n) {
  if (n == 0) return kCPU;
  Device d = in[0].device();
  for (int i = 1; i < n; ++i)
    NABLA_CHECK(in[i].device() == d, def.name, ": expected all tensors on one device, but input 0 is on ", d,
                " and input ", i, " is on ", in[i].device());
  return d;
}

bool any_requires_grad(const Tensor* in, int n) {
  for (int i = 0; i < n; ++i)
    if (in[i].requires_grad()) return true;
  return false;
}

void record_node(OpId id, const OpDef& def, const Tensor* in, int n, const Attrs& attrs, Tensor* out,
                 const TensorMeta* metas) {
  auto node = std::make_shared<autograd::OpNode>();
  node->op = id;
  node->attrs = attrs;
  node->sequence_nr = autograd::next_sequence_nr();
  node->next.resize(n);
  node->input_meta.resize(n);
  if (def.save_inputs) node->saved_inputs.resize(n);
  for (int i = 0; i < n; ++i) {
    node->next[i] = autograd::gradient_edge(in[i]);
    node->input_meta[i] = {in[i].shape(), in[i].dtype()};
    if (def.save_inputs & (1u << i)) node->saved_inputs[i] = autograd::SavedTensor(in[i], false);
  }
  node->output_meta.assign(metas, metas + def.num_outputs);
  if (def.save_outputs) node->saved_outputs.resize(def.num_outputs);
  for (int j = 0; j < def.num_outputs; ++j) {
    auto& o = *out[j].impl();
    if (is_floating(o.dtype)) {  // indices, masks: never differentiable
      o.requires_grad = true;
      o.grad_fn = node;
      o.output_nr = static_cast<uint32_t>(j);
    }
    // Integer outputs may be saved too (max_dim's VJP reads its indices).
    if (def.save_outputs & (1u << j)) node->saved_outputs[j] = autograd::SavedTensor(out[j], true);
  }
}

}  // namespace

void dispatch(OpId id, const Tensor* in, int n, const Attrs& attrs, Tensor* out) {
  const OpDef& def = op_def(id);
  TensorMeta metas[kMaxOutputs];
  def.infer(in, n, attrs, metas);
  Device device = common_device(def, in, n);
  if (def.view) {
    out[0] = make_view(def, in[0], attrs, metas[0]);
  } else {
    KernelFn kernel = def.kernels[static_cast<int>(device.type)];
    NABLA_CHECK(kernel, def.name, " has no kernel for device ", device);
    for (int j = 0; j < def.num_outputs; ++j) out[j] = allocate(metas[j], device);
    kernel(in, n, out, attrs);
  }
  if (def.vjp && GradMode::is_enabled() && any_requires_grad(in, n))
    record_node(id, def, in, n, attrs, out, metas);
  if (graph::Tracer* t = graph::active_tracer()) [[unlikely]]
    t->record(id, in, n, attrs, out, metas, def.num_outputs);
}

void dispatch_update(OpId id, const Tensor* in, int n, const Attrs& attrs, Tensor* targets) {
  const OpDef& def = op_def(id);
  TensorMeta metas[kMaxOutputs];
  def.infer(in, n, attrs, metas);
  for (int j = 0; j < def.num_outputs; ++j)
    NABLA_CHECK(targets[j].shape() == metas[j].shape && targets[j].dtype() == metas[j].dtype &&
                    targets[j].is_contiguous(),
                def.name, ": output ", j, " must be a contiguous ", metas[j].dtype, " tensor of shape ",
                metas[j].shape, ", got ", targets[j].dtype(), " of shape ", targets[j].shape());
  Device device = common_device(def, in, n);
  KernelFn kernel = def.kernels[static_cast<int>(device.type)];
  NABLA_CHECK(kernel, def.name, " has no kernel for device ", device);
  graph::Tracer* t = graph::active_tracer();
  std::vector<int> ins;
  if (t) [[unlikely]] {
    for (int i = 0; i < n; ++i) ins.push_back(t->value_of(in[i]));
    for (int j = 0; j < def.num_outputs; ++j) t->before_write(targets[j]);
  }
  kernel(in, n, targets, attrs);
  for (int j = 0; j < def.num_outputs; ++j)
    if (targets[j].numel()) targets[j].impl()->storage->version.fetch_add(1, std::memory_order_relaxed);
  if (t) [[unlikely]] {
    int node = t->graph.add_node(id, attrs, std::move(ins), metas, def.num_outputs, device);
    for (int j = 0; j < def.num_outputs; ++j) t->rebind(targets[j], t->graph.nodes[node].outputs[j]);
  }
}

Tensor& dispatch_inplace(OpId id, Tensor& self, std::initializer_list<Tensor> in_list, const Attrs& attrs) {
  const OpDef& def = op_def(id);
  const Tensor* in = in_list.begin();
  int n = static_cast<int>(in_list.size());
  TensorMeta meta;
  def.infer(in, n, attrs, &meta);
  NABLA_CHECK(meta.shape == self.shape(), def.name, "_: the result has shape ", meta.shape,
              ", which cannot be written into a tensor of shape ", self.shape());
  NABLA_CHECK(!(is_floating(meta.dtype) && !is_floating(self.dtype())) &&
                  !(meta.dtype != kBool && self.dtype() == kBool),
              def.name, "_: result type ", meta.dtype, " can't be cast to the tensor's type ", self.dtype());
  bool grad = def.vjp && GradMode::is_enabled() && any_requires_grad(in, n);
  if (grad) {
    NABLA_CHECK(!(self.is_leaf() && self.requires_grad()), def.name,
                "_: a leaf tensor that requires grad is being used in an in-place operation "
                "(wrap it in NoGradGuard, or use the out-of-place op)");
    NABLA_CHECK(!self.impl()->is_view, def.name,
                "_: in-place operation on a view while autograd is recording is not supported; "
                "use the out-of-place op");
  }
  graph::Tracer* tracer = graph::active_tracer();
  if (!grad && meta.dtype == self.dtype() && !tracer) {
    KernelFn kernel = def.kernels[static_cast<int>(common_device(def, in, n).type)];
    NABLA_CHECK(kernel, def.name, " has no kernel for device ", self.device());
    Tensor out = self;
    kernel(in, n, &out, attrs);
    self.impl()->storage->version.fetch_add(1, std::memory_order_relaxed);
    return self;
  }
  // Out-of-place, then copy back. Inputs the VJP reads that alias self are cloned first, since
  // the copy-back overwrites them.
  Tensor args[8];
  NABLA_CHECK(n <= 8, def.name, "_: too many inputs");
  for (int i = 0; i < n; ++i)
    args[i] =
        grad && (def.save_inputs & (1u << i)) && in[i].shares_storage_with(self) ? in[i].clone() : in[i];
  Tensor result;
  dispatch(id, args, n, attrs, &result);
  if (tracer) [[unlikely]]
    tracer->before_write(self);
  {
    NoGradGuard no_grad;
    Attrs copy_attrs;
    copy_attrs.dtype = self.dtype();
    Tensor dst = self;
    op_def(OpId::copy).kernels[static_cast<int>(self.device().type)](&result, 1, &dst, copy_attrs);
  }
  self.impl()->storage->version.fetch_add(1, std::memory_order_relaxed);
  if (tracer) [[unlikely]]
    tracer->rebind(self, tracer->value_of(result));
  if (grad) {
    auto& si = *self.impl();
    si.grad_fn = result.impl()->grad_fn;
    si.output_nr = result.impl()->output_nr;
    si.requires_grad = true;
  }
  return self;
}

}  // namespace nabla::ops
