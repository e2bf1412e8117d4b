// The op registry: one OpDef per op (shape/dtype rule, VJP, view rule) and its kernels per device.
//
// Eager execution, autograd and (later) graph tracing and the graph executor all go through the
// definitions here, so no op is defined twice. See docs/adding_an_op.md.
#pragma once
#include <cstdint>
#include <cstring>

#include "nabla/tensor.h"

namespace nabla::ops {

enum class OpId : uint16_t {
#define NABLA_OP(name, family) name,
#include "ops/op_list.def"
#undef NABLA_OP
  kCount
};
constexpr int kNumOps = static_cast<int>(OpId::kCount);
/// Index of the CPU kernel in OpDef::kernels.
constexpr int kCpu = static_cast<int>(DeviceType::CPU);

/// Attributes of one op call: a plain, zero-initialised, comparable struct (graph passes hash it).
/// Each op documents which fields it uses (op_list.def); unused fields stay zero.
struct Attrs {
  Shape shape;             // shape-valued attribute: target shape, permutation, reduction dims
  int64_t i[16] = {};      // integer attributes (dims, strides, paddings, flags)
  double f[2] = {};        // float attributes (alpha, slopes, scalar values)
  DType dtype = kFloat32;  // target dtype (copy) when relevant
  bool operator==(const Attrs& o) const {
    return shape == o.shape && std::memcmp(i, o.i, sizeof i) == 0 && std::memcmp(f, o.f, sizeof f) == 0 &&
           dtype == o.dtype;
  }
};

/// Shape and dtype of one output, decided before anything runs.
struct TensorMeta {
  Shape shape;
  DType dtype = kFloat32;
};

/// Arguments of a VJP rule. inputs/outputs hold the saved tensors (undefined unless the OpDef's
/// save masks ask for them); input_meta is always there. Rules use public ops only, so they are
/// differentiable again (create_graph) and traceable into a backward graph.
struct VjpArgs {
  const Tensor* inputs;
  const TensorMeta* input_meta;
  int num_inputs;
  const Tensor* outputs;
  const Tensor*
      grad_outputs;  // one per output; zeros where no gradient arrived (undefined for integer outputs)
  int num_outputs;
  const Attrs& attrs;
  const bool* needs_grad;  // per input
};

using InferFn = void (*)(const Tensor* in, int n, const Attrs& attrs, TensorMeta* out);
using KernelFn = void (*)(const Tensor* in, int n, Tensor* out, const Attrs& attrs);
/// View ops: strides and storage offset of the output (shape comes from infer).
using ViewFn = void (*)(const Tensor& in, const Attrs& attrs, const Shape& out_shape, Shape& out_strides,
                        int64_t& out_offset);
/// Writes one gradient per input into grad_in (left undefined where needs_grad is false).
using VjpFn = void (*)(const VjpArgs& args, Tensor* grad_in);

struct OpDef {
  const char* name = nullptr;
  uint8_t num_outputs = 1;
  uint32_t save_inputs = 0;   // bit i: the VJP reads input i
  uint32_t save_outputs = 0;  // bit j: the VJP reads output j
  InferFn infer = nullptr;
  ViewFn view = nullptr;  // set for ops whose output aliases input 0
  VjpFn vjp = nullptr;    // null: not differentiable
  KernelFn kernels[kNumDeviceTypes] = {};
};

/// The table entry of an op (filled at start-up by each family's register function).
OpDef& op_def(OpId id);
const char* op_name(OpId id);
/// The table entry to fill, for the register_*_ops functions only (no registration guard).
OpDef& define_op(OpId id);

/// Runs op `id` on n inputs: infer, allocate, kernel for the inputs' device, autograd node.
/// Writes def.num_outputs tensors to `out`.
void dispatch(OpId id, const Tensor* in, int n, const Attrs& attrs, Tensor* out);
inline Tensor dispatch1(OpId id, std::initializer_list<Tensor> in, const Attrs& attrs = {}) {
  Tensor out;
  dispatch(id, in.begin(), static_cast<int>(in.size()), attrs, &out);
  return out;
}
/// Runs op `id` and writes its single output into `self` (in[0] is self for most ops); bumps the
/// version counter. With autograd on, self's history is rebased onto the op.
Tensor& dispatch_inplace(OpId id, Tensor& self, std::initializer_list<Tensor> in, const Attrs& attrs = {});

/// Runs op `id` writing its outputs into existing tensors (`targets`, one per output, contiguous,
/// of the inferred shape/dtype); the kernel may read inputs that alias targets elementwise. No
/// autograd. Used by fused updates (optimizer steps); under tracing the targets are rebound.
void dispatch_update(OpId id, const Tensor* in, int n, const Attrs& attrs, Tensor* targets);

// Registration, one function per family (called once from registry.cpp).
void register_movement_ops();
void register_elementwise_ops();
void register_reduce_ops();
void register_index_ops();
void register_linalg_ops();
void register_conv_ops();
void register_optim_ops();
void register_random_ops();

}  // namespace nabla::ops
