// softmax_xent: the forward and backward pass of a mean softmax cross-entropy with class-index
// targets, in one pass over the logits. Graph-only: the fuse_softmax_xent pass
// (graph/passes/fuse_xent.cpp) puts it in place of the ~22 nodes that cross_entropy's
// log_softmax + gather + where + sum + div and their VJPs trace into. Eager mode never calls it.
//
// Per row i with target t_i (valid_i = t_i != ignore_index), count = sum(valid), g = grad_out / count:
//   lp      = log_softmax(x_i)                    (the log_softmax kernel's row function)
//   loss    = sum_i (valid_i ? -lp[t_i] : 0) / count   (the sum kernel's order)
//   dx[i,c] = ([c == t_i] * -g_i) - exp(lp[c]) * -g_i,   -g_i = valid_i ? -g : 0
// which is the unfused graph's arithmetic operation for operation (scatter_add into zeros, a row
// sum of one non-zero, exp, mul, sub), so the results are bit-identical to it. The file is built
// without FMA contraction for that reason: the unfused graph rounds the product before the sub.
#pragma GCC optimize("fp-contract=off")
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "nabla/autograd.h"
#include "ops/conv/scratch.h"
#include "ops/elementwise/simd.h"
#include "ops/reduce/reduce.h"
#include "ops/reduce/softmax_row.h"

namespace nabla::ops::reduce_cpu {
namespace {

/// float64 row: the log_softmax kernel's generic path (std::exp, sums in double).
void log_softmax_row(const double* x, double* y, int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < n; ++k) m = x[k] > m ? x[k] : m;
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += std::exp(x[k] - m);
  double ls = std::log(s);
  for (int64_t k = 0; k < n; ++k) y[k] = (x[k] - m) - ls;
}
void log_softmax_row(const float* x, float* y, int64_t n) { row_f32<true>(x, y, n); }

/// y = exp(y) in place, as the exp kernel computes it (SLEEF lanes for float32).
void exp_row(float* y, int64_t n) {
  simd::map(y, y, n, [](simd::VF v) { return simd::vexp(v); });
}
void exp_row(double* y, int64_t n) {
  for (int64_t k = 0; k < n; ++k) y[k] = std::exp(y[k]);
}

// float32 with at most kRowLanes classes (the seed models' 10): simd::kW rows at once, one row per
// vector lane, looping over the classes. A row's arithmetic is the per-row code's above, lane for
// lane (the same max order, the same SLEEF exp on each element, the same double sums in class
// order, std::log per row), so the results are bit-identical to it, ~4x faster on [32, 10] (the
// per-row code runs each 10-element row through padded vectors twice).
void xent_rows_f32(const float* x, const int64_t* t, float neg_g, float* picked, float* d, int64_t rows,
                   int64_t C, int64_t ignore) {
  using simd::VF;
  constexpr int W = simd::kW;
  alignas(64) float xt[kRowLanes][W], et[kRowLanes][W], ls[W], gi[W];
  for (int64_t r0 = 0; r0 < rows; r0 += W) {
    const int64_t nr = std::min<int64_t>(W, rows - r0);
    for (int64_t c = 0; c < C; ++c)
      for (int j = 0; j < W; ++j) xt[c][j] = j < nr ? x[(r0 + j) * C + c] : 0.0f;
    VF m = simd::vset(-std::numeric_limits<float>::infinity());
    for (int64_t c = 0; c < C; ++c) {
      const VF v = simd::vload(xt[c]);
      m = simd::vsel_gt(v, m, v, m);
    }
    for (int64_t c = 0; c < C; ++c) simd::vstore(et[c], simd::vexp(simd::vload(xt[c]) - m));
    for (int j = 0; j < W; ++j) {
      double s = 0;
      for (int64_t c = 0; c < C; ++c) s += et[c][j];
      ls[j] = j < nr ? static_cast<float>(std::log(s)) : 0.0f;
      const bool ok = j < nr && t[r0 + j] != ignore;
      gi[j] = ok ? neg_g : 0.0f;
    }
    const VF vls = simd::vload(ls), vgi = simd::vload(gi);
    for (int64_t c = 0; c < C; ++c) {
      const VF lp = (simd::vload(xt[c]) - m) - vls;
      simd::vstore(xt[c], lp);  // log-probabilities, for the picked ones
      simd::vstore(et[c], simd::vexp(lp) * vgi);
    }
    for (int j = 0; j < nr; ++j) {
      const int64_t i = r0 + j, ti = t[i];
      const bool ok = ti != ignore;
      picked[i] = ok ? -xt[ti][j] : 0.0f;
      float* di = d + i * C;
      for (int64_t c = 0; c < C; ++c) di[c] = (ok && c == ti ? gi[j] : 0.0f) - et[c][j];
    }
  }
}

template <typename T>
void xent_typed(const T* x, const int64_t* t, T gout, T* loss, T* d, int64_t M, int64_t C, int64_t ignore) {
  int64_t valid = 0;
  for (int64_t i = 0; i < M; ++i) valid += t[i] != ignore;
  const T count = static_cast<T>(valid);
  const T neg_g = -(gout / count);
  conv_cpu::Scratch<T> scratch(M);  // planned into the arena (softmax_xent_workspace)
  T* picked = scratch.p;
  if constexpr (std::is_same_v<T, float>) {
    if (C <= kRowLanes) {
      xent_rows_f32(x, t, neg_g, picked, d, M, C, ignore);
      *loss = sum_contiguous<T>(picked, M) / count;
      return;
    }
  }
  for (int64_t i = 0; i < M; ++i) {
    const T* xi = x + i * C;
    T* di = d + i * C;
    const bool ok = t[i] != ignore;
    log_softmax_row(xi, di, C);
    picked[i] = ok ? -di[t[i]] : T(0);
    exp_row(di, C);
    const T gi = ok ? neg_g : T(0);
    for (int64_t c = 0; c < C; ++c) {
      const T prod = di[c] * gi;
      di[c] = (ok && c == t[i] ? gi : T(0)) - prod;
    }
  }
  *loss = sum_contiguous<T>(picked, M) / count;
}

void softmax_xent_kernel(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const int64_t M = in[0].shape()[0], C = in[0].shape()[1];
  Tensor x, t;
  {
    NoGradGuard no_grad;  // the copies are an implementation detail
    x = in[0].is_contiguous() ? in[0] : in[0].contiguous();
    t = in[1].is_contiguous() ? in[1] : in[1].contiguous();
  }
  const int64_t* tp = static_cast<const int64_t*>(t.raw_data());
  // A bad index must be a clear error, not a wild read (gather checks the same).
  for (int64_t i = 0; i < M; ++i)
    NABLA_CHECK(tp[i] == a.i[0] || (tp[i] >= 0 && tp[i] < C), "softmax_xent: target ", tp[i],
                " is out of bounds for ", C, " classes (expected in [0, ", C - 1,
                "] or ignore_index = ", a.i[0], ")");
  if (in[0].dtype() == kFloat64)
    xent_typed<double>(static_cast<const double*>(x.raw_data()), tp, in[2].item<double>(),
                       static_cast<double*>(out[0].raw_data()), static_cast<double*>(out[1].raw_data()), M, C,
                       a.i[0]);
  else
    xent_typed<float>(static_cast<const float*>(x.raw_data()), tp, in[2].item<float>(),
                      static_cast<float*>(out[0].raw_data()), static_cast<float*>(out[1].raw_data()), M, C,
                      a.i[0]);
}

void softmax_xent_infer(const Tensor* in, int n, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(n == 3, "softmax_xent: expected 3 inputs (logits, target, grad_out), got ", n);
  const Tensor& x = in[0];
  NABLA_CHECK(x.dim() == 2 && (x.dtype() == kFloat32 || x.dtype() == kFloat64),
              "softmax_xent: expected float32 or float64 logits of shape [M, C], got ", x.dtype(),
              " of shape ", x.shape());
  NABLA_CHECK(in[1].dtype() == kInt64 && in[1].dim() == 1 && in[1].shape()[0] == x.shape()[0],
              "softmax_xent: expected int64 class indices of shape [", x.shape()[0], "], got ", in[1].dtype(),
              " of shape ", in[1].shape());
  NABLA_CHECK(in[2].dtype() == x.dtype() && in[2].numel() == 1, "softmax_xent: expected a ", x.dtype(),
              " scalar grad_out, got ", in[2].dtype(), " of shape ", in[2].shape());
  out[0] = {Shape{}, x.dtype()};
  out[1] = {x.shape(), x.dtype()};
}

}  // namespace

int64_t softmax_xent_workspace(int64_t rows, DType dtype) {
  return ws::reserved_bytes(rows, dtype_size(dtype));
}

void register_softmax_xent() {
  OpDef& d = define_op(OpId::softmax_xent);
  d.num_outputs = 2;
  d.infer = softmax_xent_infer;
  d.kernels[kCpu] = softmax_xent_kernel;
}

}  // namespace nabla::ops::reduce_cpu
