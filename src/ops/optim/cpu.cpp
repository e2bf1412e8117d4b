// CPU kernels of the optimizer update ops: one fused pass per parameter (PyTorch 1.13's
// _single_tensor_adam/_adamw/_sgd formulas). The per-element math lives in update_math.h
// (adam_range, sgd_range, shared with anything else that updates part of a parameter): float64 with
// correctly rounded sqrt and divide, float32 with AVX-512 with the square root off the divider
// (within a few ulp of PyTorch, not bit-for-bit). Each element's update depends only on that element and
// every element of a range gets the same arithmetic, so results do not depend on the thread count. Outputs
// may alias the inputs they replace (the eager optimizers and the graph's in-place reuse both do that);
// otherwise the input is copied to the output first and updated there.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/parallel.h"
#include "ops/optim/update.h"
#include "ops/optim/update_math.h"
#include "ops/registry.h"

namespace nabla::ops::optim_cpu {
namespace {

/// The constants of one step from adam_step's hyper-parameters (lr, beta1, beta2, eps, weight_decay,
/// step): shared by adam_step and the fused graph ops (update.h), so both round them alike.
template <typename T>
AdamConsts<T> adam_consts(const double* h) {
  const double lr = h[0], beta1 = h[1], beta2 = h[2], eps = h[3], wd = h[4], step = h[5];
  const double step_size = lr / (1 - std::pow(beta1, step));
  const double bc2 = std::sqrt(1 - std::pow(beta2, step));
  return {T(beta1), T(1 - beta1),  T(beta2),   T(1 - beta2),  T(wd),
          T(eps),   T(-step_size), T(1 / bc2), T(1 - lr * wd)};
}

/// Makes out hold in's values (no-op when they share memory), so the update can run in place.
void prepare_out(const Tensor& in, const Tensor& out) {
  if (out.numel() == 0 || in.raw_data() == out.raw_data()) return;
  Tensor src = in;
  if (!src.is_contiguous()) {
    Attrs a;
    a.dtype = in.dtype();
    Tensor c = out;
    op_def(OpId::copy).kernels[kCpu](&in, 1, &c, a);
    return;
  }
  std::memcpy(out.raw_data(), src.raw_data(), out.numel() * dtype_size(out.dtype()));
}

/// The gradient as contiguous data (graph values may be views).
Tensor contiguous_input(const Tensor& t) {
  if (t.is_contiguous()) return t;
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->storage = detail::allocate_storage(t.numel() * dtype_size(t.dtype()), t.device());
  impl->shape = t.shape();
  impl->strides = contiguous_strides(t.shape());
  impl->dtype = t.dtype();
  Tensor c(std::move(impl));
  Attrs a;
  a.dtype = t.dtype();
  op_def(OpId::copy).kernels[kCpu](&t, 1, &c, a);
  return c;
}

template <typename T>
void dispatch_bool(bool b, const T& f) {
  if (b)
    f.template operator()<true>();
  else
    f.template operator()<false>();
}

}  // namespace

void adam_step(const Tensor* in, int, Tensor* out, const Attrs& attrs) {
  const double* h = static_cast<const double*>(in[5].raw_data());
  const bool amsgrad = attrs.i[1] != 0;
  const Decay decay = static_cast<Decay>(attrs.i[0]);
  prepare_out(in[0], out[0]);
  for (int j = 1; j < 4; ++j) prepare_out(in[j + 1], out[j]);
  Tensor grad = contiguous_input(in[1]);
  const int64_t n = out[0].numel();
  // Split at row boundaries, where the weight's GEMMs split it (parallel_for_rows, gemm.h).
  const int64_t rows = out[0].dim() >= 2 ? out[0].size(0) : n;
  auto run = [&]<typename T>() {
    const AdamConsts<T> c = adam_consts<T>(h);
    T* p = static_cast<T*>(out[0].raw_data());
    const T* g = static_cast<const T*>(grad.raw_data());
    T* m = static_cast<T*>(out[1].raw_data());
    T* v = static_cast<T*>(out[2].raw_data());
    T* vmax = amsgrad ? static_cast<T*>(out[3].raw_data()) : nullptr;
    auto go = [&]<Decay kDecay>() {
      dispatch_bool(amsgrad, [&]<bool kAms>() {
        cpu::parallel_for_rows(n, rows, cpu::kUpdateGrainSize, [&](int64_t b, int64_t e) {
          adam_range<T, kDecay, kAms>(p, g, m, v, vmax, b, e, c);
        });
      });
    };
    if (decay == Decay::kNone) go.template operator()<Decay::kNone>();
    if (decay == Decay::kL2) go.template operator()<Decay::kL2>();
    if (decay == Decay::kDecoupled) go.template operator()<Decay::kDecoupled>();
  };
  if (out[0].dtype() == kFloat64)
    run.template operator()<double>();
  else
    run.template operator()<float>();
}

void sgd_step(const Tensor* in, int, Tensor* out, const Attrs& attrs) {
  const double* h = static_cast<const double*>(in[3].raw_data());
  const double lr = h[0], momentum_v = h[1], dampening = h[2], wd = h[3];
  const bool momentum = out[1].numel() > 0;
  const bool first = attrs.i[0] != 0, nesterov = attrs.i[1] != 0;
  prepare_out(in[0], out[0]);
  if (!first) prepare_out(in[2], out[1]);
  Tensor grad = contiguous_input(in[1]);
  const int64_t n = out[0].numel();
  // Split at row boundaries, where the weight's GEMMs split it (parallel_for_rows, gemm.h).
  const int64_t rows = out[0].dim() >= 2 ? out[0].size(0) : n;
  auto run = [&]<typename T>() {
    const T neg_lr = -lr, mom = momentum_v, omd = 1 - dampening, wdt = wd;
    T* p = static_cast<T*>(out[0].raw_data());
    const T* g = static_cast<const T*>(grad.raw_data());
    T* buf = momentum ? static_cast<T*>(out[1].raw_data()) : nullptr;
    dispatch_bool(wd != 0, [&]<bool kWd>() {
      auto loop = [&]<bool kMom, bool kFirst, bool kNesterov>() {
        cpu::parallel_for_rows(n, rows, cpu::kUpdateGrainSize, [&](int64_t b, int64_t e) {
          sgd_range<T, kWd, kMom, kFirst, kNesterov>(p, g, buf, b, e, neg_lr, mom, omd, wdt);
        });
      };
      if (!momentum) return loop.template operator()<false, false, false>();
      dispatch_bool(first, [&]<bool kFirst>() {
        dispatch_bool(nesterov,
                      [&]<bool kNesterov>() { loop.template operator()<true, kFirst, kNesterov>(); });
      });
    });
  };
  if (out[0].dtype() == kFloat64)
    run.template operator()<double>();
  else
    run.template operator()<float>();
}

// ---- update.h: adam_step's update loop for fused graph ops ----

namespace {
template <typename T>
void adam_apply(const PreparedAdam& a, T* p, const T* g, T* m, T* v, T* vmax, int64_t n) {
  AdamConsts<T> c;
  std::memcpy(&c, a.consts, sizeof c);
  auto go = [&]<Decay kDecay>() {
    if (a.amsgrad)
      adam_range<T, kDecay, true>(p, g, m, v, vmax, 0, n, c);
    else
      adam_range<T, kDecay, false>(p, g, m, v, vmax, 0, n, c);
  };
  if (a.decay == static_cast<int>(Decay::kNone)) go.template operator()<Decay::kNone>();
  if (a.decay == static_cast<int>(Decay::kL2)) go.template operator()<Decay::kL2>();
  if (a.decay == static_cast<int>(Decay::kDecoupled)) go.template operator()<Decay::kDecoupled>();
}
}  // namespace

PreparedAdam prepare_adam(const Tensor& hyper, const Attrs& attrs, DType dtype) {
  static_assert(sizeof(AdamConsts<double>) <= sizeof(PreparedAdam::consts));
  PreparedAdam a;
  const double* h = static_cast<const double*>(hyper.raw_data());
  a.decay = static_cast<int>(attrs.i[0]);
  a.amsgrad = attrs.i[1] != 0;
  if (dtype == kFloat64) {
    AdamConsts<double> c = adam_consts<double>(h);
    std::memcpy(a.consts, &c, sizeof c);
  } else {
    AdamConsts<float> c = adam_consts<float>(h);
    std::memcpy(a.consts, &c, sizeof c);
  }
  return a;
}
void adam_update(const PreparedAdam& a, float* p, const float* g, float* m, float* v, float* vmax,
                 int64_t n) {
  adam_apply<float>(a, p, g, m, v, vmax, n);
}
void adam_update(const PreparedAdam& a, double* p, const double* g, double* m, double* v, double* vmax,
                 int64_t n) {
  adam_apply<double>(a, p, g, m, v, vmax, n);
}
void prepare_update_output(const Tensor& in, const Tensor& out) { prepare_out(in, out); }

}  // namespace nabla::ops::optim_cpu
