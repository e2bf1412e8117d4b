// weight_grad_adam_step: a linear layer's weight gradient dW = dY^T X and the Adam update of W
// in one node. Graph-only: the fuse_weight_grad_updates pass (graph/passes/fuse_grad_step.cpp)
// puts it in place of permute(dY) -> matmul(., X) -> adam_step(W, dW, ...) when nothing else reads
// dW. The GEMM is cut into the tiles the matmul kernel would use (cpu::gemm_tiling, a function of
// the sizes only), each tile is the same single-threaded BLAS call, and the update runs on each
// tile right after it, while it is in cache: dW is never written whole and read back, and the
// values are bit-identical to the unfused graph's (same BLAS calls, same update code: update.h).
// The tile buffer is kernel workspace (ops/workspace.h): the fusion pass declares its size on the
// node (weight_grad_workspace), so a compiled graph plans it into its arena.
#include <algorithm>

#include "nabla/autograd.h"
#include "ops/conv/scratch.h"
#include "ops/linalg/gemm.h"
#include "ops/optim/update.h"
#include "ops/registry.h"

namespace nabla::ops::optim_cpu {
namespace {

template <typename T>
void run_typed(const Tensor& dy, const Tensor& x, Tensor* out, const PreparedAdam& a, bool amsgrad) {
  const int64_t B = dy.shape()[0], O = dy.shape()[1], I = x.shape()[1];
  cpu::GemmShape s;
  s.M = O;
  s.N = I;
  s.K = B;
  s.a = cpu::blas_layout(O, B, 1, O);  // dY^T: element (o, b) at b * O + o
  s.b = cpu::blas_layout(B, I, I, 1);
  const cpu::Tiling t = cpu::gemm_tiling(O, I, B);
  const T* A = static_cast<const T*>(dy.raw_data());
  const T* X = static_cast<const T*>(x.raw_data());
  T* p = static_cast<T*>(out[0].raw_data());
  T* m = static_cast<T*>(out[1].raw_data());
  T* v = static_cast<T*>(out[2].raw_data());
  T* vmax = amsgrad ? static_cast<T*>(out[3].raw_data()) : nullptr;
  auto row = [&](T* q, int64_t off) { return q ? q + off : nullptr; };
  auto tile = [&](int64_t item) {
    const int64_t lo = item * t.extent;
    if (t.split_n) {
      // Columns [lo, lo + w) of every row: a [O, w] block, updated row by row.
      const int64_t w = std::min(t.extent, I - lo);
      conv_cpu::Scratch<T> scratch(O * w);  // planned into the arena (weight_grad_workspace)
      T* g = scratch.p;
      cpu::GemmShape st = s;
      st.ldc = w;
      cpu::blas_gemm<T>(st, O, w, A, X + lo, T(0), g);
      for (int64_t r = 0; r < O; ++r)
        adam_update(a, p + r * I + lo, g + r * w, m + r * I + lo, v + r * I + lo, row(vmax, r * I + lo), w);
    } else {
      // Rows [lo, lo + h): one contiguous run of the parameter.
      const int64_t h = std::min(t.extent, O - lo);
      conv_cpu::Scratch<T> scratch(h * I);
      T* g = scratch.p;
      cpu::GemmShape st = s;
      st.ldc = I;
      cpu::blas_gemm<T>(st, h, I, A + lo, X, T(0), g);
      const int64_t off = lo * I;
      adam_update(a, p + off, g, m + off, v + off, row(vmax, off), h * I);
    }
  };
  // As cpu::gemm_batched: the tiles run across threads only when the product is big enough; each
  // tile's values do not depend on which thread computes it.
  const double work = static_cast<double>(O) * I * B;
  if (t.count == 1 || work < 2.0 * cpu::kGemmParallelWork) {
    for (int64_t i = 0; i < t.count; ++i) tile(i);
    return;
  }
  cpu::parallel_for(0, t.count, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) tile(i);
  });
}

// Inputs: (grad_out [B, O], input [B, I], param [O, I], exp_avg, exp_avg_sq, max_exp_avg_sq,
// hyper f64[6]); attrs as adam_step's. Outputs as adam_step's.
void weight_grad_adam_step(const Tensor* in, int, Tensor* out, const Attrs& attrs) {
  const bool amsgrad = attrs.i[1] != 0;
  prepare_update_output(in[2], out[0]);
  for (int j = 1; j < 4; ++j) prepare_update_output(in[j + 2], out[j]);
  if (out[0].numel() == 0) return;
  Tensor dy, x;
  {
    NoGradGuard no_grad;  // the copies are an implementation detail
    dy = in[0].is_contiguous() ? in[0] : in[0].contiguous();
    x = in[1].is_contiguous() ? in[1] : in[1].contiguous();
  }
  const PreparedAdam a = prepare_adam(in[6], attrs, out[0].dtype());
  if (out[0].dtype() == kFloat64)
    run_typed<double>(dy, x, out, a, amsgrad);
  else
    run_typed<float>(dy, x, out, a, amsgrad);
}

void weight_grad_adam_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  constexpr const char* kName = "weight_grad_adam_step";
  NABLA_CHECK(n == 7, kName, ": expected 7 inputs, got ", n);
  const Tensor &dy = in[0], &x = in[1], &p = in[2];
  NABLA_CHECK(p.dtype() == kFloat32 || p.dtype() == kFloat64, kName,
              ": parameters must be float32 or float64, got ", p.dtype());
  NABLA_CHECK(
      dy.dim() == 2 && x.dim() == 2 && p.dim() == 2 && dy.shape()[0] == x.shape()[0] &&
          p.shape()[0] == dy.shape()[1] && p.shape()[1] == x.shape()[1] && dy.dtype() == p.dtype() &&
          x.dtype() == p.dtype(),
      kName,
      ": expected grad_out [B, O] and input [B, I] of the parameter's dtype for a parameter [O, I], got ",
      dy.dtype(), dy.shape(), ", ", x.dtype(), x.shape(), " and ", p.dtype(), p.shape());
  for (int j = 3; j < 6; ++j) {
    if (j == 5 && !a.i[1] && in[j].numel() == 0) continue;
    NABLA_CHECK(in[j].shape() == p.shape() && in[j].dtype() == p.dtype(), kName, ": optimizer state ", j - 3,
                " must be ", p.dtype(), " of shape ", p.shape(), ", got ", in[j].dtype(), " of shape ",
                in[j].shape());
  }
  NABLA_CHECK(in[6].dtype() == kFloat64 && in[6].dim() == 1 && in[6].size(0) == 6 && in[6].is_contiguous(),
              kName, ": expected a contiguous float64 hyper-parameter tensor of shape [6], got ",
              in[6].dtype(), " of shape ", in[6].shape());
  out[0] = {p.shape(), p.dtype()};
  for (int j = 1; j < 4; ++j) out[j] = {in[j + 2].shape(), p.dtype()};
}

}  // namespace

int64_t weight_grad_workspace(int64_t batch, int64_t out, int64_t in, DType dtype) {
  const cpu::Tiling t = cpu::gemm_tiling(out, in, batch);
  const int64_t elems = t.split_n ? out * std::min(t.extent, in) : std::min(t.extent, out) * in;
  return ws::reserved_bytes(elems, dtype_size(dtype));
}

void register_weight_grad_steps() {
  auto& d = define_op(OpId::weight_grad_adam_step);
  d.num_outputs = 4;
  d.infer = weight_grad_adam_infer;
  d.kernels[kCpu] = weight_grad_adam_step;
}

}  // namespace nabla::ops::optim_cpu
