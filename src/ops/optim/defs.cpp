// Optimizer update ops: shape rules (the outputs mirror the updated tensors). Kernels in cpu.cpp.
// Not differentiable (no VJP): they are the last step of a training graph.
#include "ops/registry.h"

namespace nabla::ops {
namespace optim_cpu {
void adam_step(const Tensor* in, int n, Tensor* out, const Attrs& attrs);
void sgd_step(const Tensor* in, int n, Tensor* out, const Attrs& attrs);
void rmsprop_step(const Tensor* in, int n, Tensor* out, const Attrs& attrs);
void register_weight_grad_steps();  // weight_grad_step.cpp
}  // namespace optim_cpu

namespace {

void check_like(const char* who, const Tensor& p, const Tensor& t, const char* what, bool optional) {
  if (optional && t.numel() == 0) return;
  NABLA_CHECK(t.shape() == p.shape() && t.dtype() == p.dtype(), who, ": ", what, " must be ", p.dtype(),
              " of shape ", p.shape(), ", got ", t.dtype(), " of shape ", t.shape());
}

void check_hyper(const char* who, const Tensor& h, int64_t size) {
  NABLA_CHECK(h.dtype() == kFloat64 && h.dim() == 1 && h.size(0) == size && h.is_contiguous(), who,
              ": expected a contiguous float64 hyper-parameter tensor of shape [", size, "], got ", h.dtype(),
              " of shape ", h.shape());
}

void adam_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(n == 6, "adam_step: expected 6 inputs, got ", n);
  NABLA_CHECK(in[0].dtype() == kFloat32 || in[0].dtype() == kFloat64,
              "adam_step: parameters must be float32 or float64, got ", in[0].dtype());
  check_like("adam_step", in[0], in[1], "grad", false);
  check_like("adam_step", in[0], in[2], "exp_avg", false);
  check_like("adam_step", in[0], in[3], "exp_avg_sq", false);
  check_like("adam_step", in[0], in[4], "max_exp_avg_sq", !a.i[1]);
  check_hyper("adam_step", in[5], 6);
  for (int j = 0; j < 4; ++j) out[j] = {in[j == 0 ? 0 : j + 1].shape(), in[0].dtype()};
}

void sgd_infer(const Tensor* in, int n, const Attrs&, TensorMeta* out) {
  NABLA_CHECK(n == 4, "sgd_step: expected 4 inputs, got ", n);
  NABLA_CHECK(in[0].dtype() == kFloat32 || in[0].dtype() == kFloat64,
              "sgd_step: parameters must be float32 or float64, got ", in[0].dtype());
  check_like("sgd_step", in[0], in[1], "grad", false);
  check_like("sgd_step", in[0], in[2], "momentum_buffer", true);
  check_hyper("sgd_step", in[3], 4);
  out[0] = {in[0].shape(), in[0].dtype()};
  out[1] = {in[2].shape(), in[0].dtype()};
}

void rmsprop_infer(const Tensor* in, int n, const Attrs&, TensorMeta* out) {
  NABLA_CHECK(n == 6, "rmsprop_step: expected 6 inputs, got ", n);
  NABLA_CHECK(in[0].dtype() == kFloat32 || in[0].dtype() == kFloat64,
              "rmsprop_step: parameters must be float32 or float64, got ", in[0].dtype());
  check_like("rmsprop_step", in[0], in[1], "grad", false);
  check_like("rmsprop_step", in[0], in[2], "square_avg", false);
  check_like("rmsprop_step", in[0], in[3], "momentum_buffer", true);
  check_like("rmsprop_step", in[0], in[4], "grad_avg", true);
  check_hyper("rmsprop_step", in[5], 5);
  out[0] = {in[0].shape(), in[0].dtype()};
  for (int j = 1; j < 4; ++j) out[j] = {in[j + 1].shape(), in[0].dtype()};
}

}  // namespace

void register_optim_ops() {
  auto& adam = define_op(OpId::adam_step);
  adam.num_outputs = 4;
  adam.infer = adam_infer;
  adam.kernels[kCpu] = optim_cpu::adam_step;
  auto& sgd = define_op(OpId::sgd_step);
  sgd.num_outputs = 2;
  sgd.infer = sgd_infer;
  sgd.kernels[kCpu] = optim_cpu::sgd_step;
  auto& rms = define_op(OpId::rmsprop_step);
  rms.num_outputs = 4;
  rms.infer = rmsprop_infer;
  rms.kernels[kCpu] = optim_cpu::rmsprop_step;
  optim_cpu::register_weight_grad_steps();
}

}  // namespace nabla::ops
