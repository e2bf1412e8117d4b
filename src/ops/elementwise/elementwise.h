// Internal: shared pieces of the elementwise family (kernel registration, scalar wrapping).
#pragma once
#include "ops/registry.h"

namespace nabla::ops {

/// Fill the CPU kernel slots of the binary / unary elementwise ops (cpu.cpp, cpu_unary.cpp).
void register_elementwise_binary_cpu();
void register_elementwise_unary_cpu();
/// Registers fused_elementwise (fused.cpp): the graph's one-loop elementwise chains.
void register_fused_elementwise();

}  // namespace nabla::ops

namespace nabla::detail {

/// A 0-dim tensor of dtype `t` holding `s` (not marked as a wrapped number: it is already cast).
Tensor scalar_as(const Scalar& s, DType t, Device device = kCPU);
/// result_type of two tensors without building an initializer_list (hot path of binary ops).
DType result_type2(const Tensor& a, const Tensor& b);
/// result_type of a tensor and a Scalar (the Scalar promotes like a wrapped number).
DType result_type_scalar(const Tensor& a, const Scalar& s);

}  // namespace nabla::detail
