// Internal: the optimizer ops' per-element update, callable on a block of elements. Fused graph
// ops (weight_grad_adam_step: the weight-gradient GEMM and the Adam update in one node) apply it
// to each block of the gradient right after computing it, through the same code as adam_step
// (cpu.cpp), so the two agree bit for bit and any change to the update math reaches both.
#pragma once
#include <cstdint>

#include "ops/registry.h"

namespace nabla::ops::optim_cpu {

/// One Adam step's constants, prepared once per step (opaque: adam_step's own constant struct).
struct PreparedAdam {
  alignas(8) unsigned char consts[128];
  int decay = 0;  // adam_step's attrs.i[0]: 0 none, 1 L2, 2 decoupled
  bool amsgrad = false;
};
/// From adam_step's hyper-parameter tensor (float64 [6]) and attrs, for parameters of `dtype`.
PreparedAdam prepare_adam(const Tensor& hyper, const Attrs& attrs, DType dtype);
/// adam_step's update of n contiguous elements in place (vmax is read only with amsgrad).
void adam_update(const PreparedAdam& a, float* p, const float* g, float* m, float* v, float* vmax, int64_t n);
void adam_update(const PreparedAdam& a, double* p, const double* g, double* m, double* v, double* vmax,
                 int64_t n);
/// Bytes of scratch weight_grad_adam_step takes on the calling thread for grad_out [batch, out] and
/// input [batch, in] (one GEMM tile), for Node::workspace.
int64_t weight_grad_workspace(int64_t batch, int64_t out, int64_t in, DType dtype);
/// Makes an update op's output hold its input's values (no-op when they share memory).
void prepare_update_output(const Tensor& in, const Tensor& out);

}  // namespace nabla::ops::optim_cpu
