// Adam and AdamW: one fused pass per parameter (PyTorch 1.13's _single_tensor_adam/_adamw).
#include "nabla/optim/adam.h"

#include <algorithm>
#include <cmath>

#include "nabla/optim/adamw.h"
#include "optim/fused.h"

namespace nabla::optim {
namespace {

enum class Decay { kNone, kL2, kDecoupled };

struct AdamScalars {
  double beta1, beta2, weight_decay, eps;
  double step_size;  // lr / bias_correction1
  double bias_correction2_sqrt;
  // PyTorch divides by bias_correction2_sqrt; multiplying by its reciprocal (rounded once, in
  // double) differs by at most an ulp and takes one of the two divides per element off the
  // divider, which sqrt and the divides share (the step is bound by it when its data is in L2).
  double decay;  // AdamW: 1 - lr * weight_decay
};

/// The scalars of one step, rounded to T as PyTorch rounds a Python number for a float tensor op.
template <typename T>
struct AdamConsts {
  T b1, omb1, b2, omb2, wd, eps, neg_step, inv_bc2, decay;
};

// A plain function with __restrict parameters (lambda captures lose them), so the loop vectorises.
template <typename T, Decay kDecay, bool kAmsgrad>
void adam_range(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, T* __restrict vmax,
                int64_t begin, int64_t end, const AdamConsts<T> c) {
  for (int64_t i = begin; i < end; ++i) {
    T pi = p[i], gi = g[i];
    if constexpr (kDecay == Decay::kL2) gi = gi + c.wd * pi;
    if constexpr (kDecay == Decay::kDecoupled) pi = pi * c.decay;
    T mi = m[i] * c.b1 + c.omb1 * gi;
    T vi = v[i] * c.b2 + c.omb2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      vi = std::max(vmax[i], vi);
      vmax[i] = vi;
    }
    T denom = std::sqrt(vi) * c.inv_bc2 + c.eps;
    p[i] = pi + c.neg_step * (mi / denom);
  }
}

template <typename T, Decay kDecay, bool kAmsgrad>
void adam_kernel(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamScalars& s) {
  const AdamConsts<T> c{T(s.beta1),        T(1 - s.beta1), T(s.beta2),      T(1 - s.beta2),
                        T(s.weight_decay), T(s.eps),       T(-s.step_size), T(1 / s.bias_correction2_sqrt),
                        T(s.decay)};
  detail::for_each_chunk(n, [&](int64_t begin, int64_t end) {
    adam_range<T, kDecay, kAmsgrad>(p, g, m, v, vmax, begin, end, c);
  });
}

}  // namespace

Adam::Adam(const std::vector<ParamGroup>& groups, const AdamOptions& d) : Adam(groups, d, "Adam", false) {}

Adam::Adam(const std::vector<ParamGroup>& groups, const AdamOptions& d, const char* name, bool decoupled)
    : Optimizer(name,
                GroupOptions{.lr = d.lr,
                             .weight_decay = d.weight_decay,
                             .beta1 = d.betas.first,
                             .beta2 = d.betas.second,
                             .eps = d.eps,
                             .amsgrad = d.amsgrad},
                {"lr", "betas", "eps", "weight_decay", "amsgrad"},
                {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
                /*has_step=*/true),
      decoupled_(decoupled) {
  init_groups(groups);
}

static AdamOptions as_adam(const AdamWOptions& d) {
  return {.lr = d.lr, .betas = d.betas, .eps = d.eps, .weight_decay = d.weight_decay, .amsgrad = d.amsgrad};
}

AdamW::AdamW(const std::vector<ParamGroup>& groups, const AdamWOptions& d)
    : Adam(groups, as_adam(d), "AdamW", /*decoupled=*/true) {}

void Adam::validate(const GroupOptions& o) const {
  NABLA_CHECK(o.lr >= 0, name_, ": invalid learning rate ", o.lr, " (must be >= 0)");
  NABLA_CHECK(o.eps >= 0, name_, ": invalid eps ", o.eps, " (must be >= 0)");
  NABLA_CHECK(o.beta1 >= 0 && o.beta1 < 1, name_, ": invalid betas[0] ", o.beta1, " (must be in [0, 1))");
  NABLA_CHECK(o.beta2 >= 0 && o.beta2 < 1, name_, ": invalid betas[1] ", o.beta2, " (must be in [0, 1))");
  NABLA_CHECK(o.weight_decay >= 0, name_, ": invalid weight_decay ", o.weight_decay, " (must be >= 0)");
}

void Adam::step() {
  for (size_t gi = 0; gi < params_.size(); ++gi) {
    const GroupOptions& o = group_options_[gi];
    for (size_t i = 0; i < params_[gi].size(); ++i) {
      const Tensor& param = params_[gi][i];
      Tensor grad = param.grad();
      if (!grad.defined()) continue;
      ParamState& st = state_[gi][i];
      detail::FusedParam fp(param, grad, name_);
      Tensor& m = fp.buffer(st.buf[0]);
      Tensor& v = fp.buffer(st.buf[1]);
      if (o.amsgrad) fp.buffer(st.buf[2]);
      st.initialized = true;
      st.step += 1;
      AdamScalars s{o.beta1, o.beta2, o.weight_decay, o.eps, 0, 0, 1 - o.lr * o.weight_decay};
      s.step_size = o.lr / (1 - std::pow(o.beta1, st.step));
      s.bias_correction2_sqrt = std::sqrt(1 - std::pow(o.beta2, st.step));
      Decay decay = decoupled_ ? Decay::kDecoupled : o.weight_decay != 0 ? Decay::kL2 : Decay::kNone;
      detail::dispatch_float(fp.dtype(), [&]<typename T>() {
        T* vmax = o.amsgrad ? st.buf[2].data_ptr<T>() : nullptr;
        auto run = [&]<Decay kDecay>() {
          detail::dispatch_bool(o.amsgrad, [&]<bool kAms>() {
            adam_kernel<T, kDecay, kAms>(fp.param<T>(), fp.grad<T>(), m.data_ptr<T>(), v.data_ptr<T>(), vmax,
                                         fp.numel(), s);
          });
        };
        if (decay == Decay::kNone) run.template operator()<Decay::kNone>();
        if (decay == Decay::kL2) run.template operator()<Decay::kL2>();
        if (decay == Decay::kDecoupled) run.template operator()<Decay::kDecoupled>();
      });
      fp.finish();
    }
  }
}

}  // namespace nabla::optim
