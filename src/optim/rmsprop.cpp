// RMSprop: one fused pass per parameter (PyTorch 1.13's _single_tensor_rmsprop).
#include "nabla/optim/rmsprop.h"

#include <cmath>

#include "graph/trace.h"
#include "optim/fused.h"

namespace nabla::optim {
namespace {

struct RMSpropScalars {
  double lr, alpha, eps, weight_decay, momentum;
};

template <typename T>
struct RMSpropConsts {
  T neg_lr, alpha, oma, eps, wd, mom;
};

// A plain function with __restrict parameters (lambda captures lose them), so the loop vectorises.
template <typename T, bool kWeightDecay, bool kCentered, bool kMomentum>
void rmsprop_range(T* __restrict p, const T* __restrict g, T* __restrict sq, T* __restrict gavg,
                   T* __restrict buf, int64_t begin, int64_t end, const RMSpropConsts<T> c) {
  for (int64_t i = begin; i < end; ++i) {
    T gi = g[i];
    if constexpr (kWeightDecay) gi = gi + c.wd * p[i];
    T sqi = sq[i] * c.alpha + c.oma * (gi * gi);
    sq[i] = sqi;
    T avg;
    if constexpr (kCentered) {
      T ga = gavg[i] * c.alpha + c.oma * gi;
      gavg[i] = ga;
      avg = std::sqrt(sqi - ga * ga) + c.eps;
    } else {
      avg = std::sqrt(sqi) + c.eps;
    }
    if constexpr (kMomentum) {
      T b = buf[i] * c.mom + gi / avg;
      buf[i] = b;
      p[i] = p[i] + c.neg_lr * b;
    } else {
      p[i] = p[i] + c.neg_lr * (gi / avg);
    }
  }
}

template <typename T, bool kWeightDecay, bool kCentered, bool kMomentum>
void rmsprop_kernel(T* p, const T* g, T* sq, T* gavg, T* buf, int64_t n, const RMSpropScalars& s) {
  const RMSpropConsts<T> c{T(-s.lr), T(s.alpha), T(1 - s.alpha), T(s.eps), T(s.weight_decay), T(s.momentum)};
  detail::for_each_chunk(n, [&](int64_t begin, int64_t end) {
    rmsprop_range<T, kWeightDecay, kCentered, kMomentum>(p, g, sq, gavg, buf, begin, end, c);
  });
}

}  // namespace

RMSprop::RMSprop(const std::vector<ParamGroup>& groups, const RMSpropOptions& d)
    : Optimizer("RMSprop",
                GroupOptions{.lr = d.lr,
                             .weight_decay = d.weight_decay,
                             .momentum = d.momentum,
                             .eps = d.eps,
                             .alpha = d.alpha,
                             .centered = d.centered},
                {"lr", "alpha", "eps", "weight_decay", "momentum", "centered"},
                {"square_avg", "momentum_buffer", "grad_avg"}, /*has_step=*/true) {
  init_groups(groups);
}

void RMSprop::validate(const GroupOptions& o) const {
  NABLA_CHECK(o.lr >= 0, "RMSprop: invalid learning rate ", o.lr, " (must be >= 0)");
  NABLA_CHECK(o.eps >= 0, "RMSprop: invalid eps ", o.eps, " (must be >= 0)");
  NABLA_CHECK(o.momentum >= 0, "RMSprop: invalid momentum ", o.momentum, " (must be >= 0)");
  NABLA_CHECK(o.weight_decay >= 0, "RMSprop: invalid weight_decay ", o.weight_decay, " (must be >= 0)");
  NABLA_CHECK(o.alpha >= 0, "RMSprop: invalid alpha ", o.alpha, " (must be >= 0)");
}

void RMSprop::step() {
  graph::check_not_tracing("RMSprop.step()", "its update has no graph op yet (SGD, Adam and AdamW do)");
  for (size_t gi = 0; gi < params_.size(); ++gi) {
    const GroupOptions& o = group_options_[gi];
    RMSpropScalars s{o.lr, o.alpha, o.eps, o.weight_decay, o.momentum};
    bool momentum = o.momentum > 0;
    for (size_t i = 0; i < params_[gi].size(); ++i) {
      const Tensor& param = params_[gi][i];
      Tensor grad = param.grad();
      if (!grad.defined()) continue;
      ParamState& st = state_[gi][i];
      detail::FusedParam fp(param, grad, name_);
      fp.buffer(st.buf[0]);
      if (momentum) fp.buffer(st.buf[1]);
      if (o.centered) fp.buffer(st.buf[2]);
      st.initialized = true;
      st.step += 1;
      detail::dispatch_float(fp.dtype(), [&]<typename T>() {
        T* buf = momentum ? st.buf[1].data_ptr<T>() : nullptr;
        T* gavg = o.centered ? st.buf[2].data_ptr<T>() : nullptr;
        T* sq = st.buf[0].data_ptr<T>();
        detail::dispatch_bool(o.weight_decay != 0, [&]<bool kWd>() {
          detail::dispatch_bool(o.centered, [&]<bool kCentered>() {
            detail::dispatch_bool(momentum, [&]<bool kMom>() {
              rmsprop_kernel<T, kWd, kCentered, kMom>(fp.param<T>(), fp.grad<T>(), sq, gavg, buf, fp.numel(),
                                                      s);
            });
          });
        });
      });
      fp.finish();
    }
  }
}

}  // namespace nabla::optim
