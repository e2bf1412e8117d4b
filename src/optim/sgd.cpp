// SGD: one fused pass per parameter (PyTorch 1.13's _single_tensor_sgd).
#include "nabla/optim/sgd.h"

#include "optim/fused.h"

namespace nabla::optim {
namespace {

struct SGDScalars {
  double lr, momentum, dampening, weight_decay;
};

// kMomentum: buf exists; kFirst: buf is started from d_p (PyTorch clones the first d_p).
// A plain function with __restrict parameters (lambda captures lose them), so the loop vectorises.
template <typename T, bool kWeightDecay, bool kMomentum, bool kFirst, bool kNesterov>
void sgd_range(T* __restrict p, const T* __restrict g, T* __restrict buf, int64_t begin, int64_t end,
               const T neg_lr, const T mom, const T omd, const T wd) {
  for (int64_t i = begin; i < end; ++i) {
    T d = g[i];
    if constexpr (kWeightDecay) d = d + wd * p[i];
    if constexpr (kMomentum) {
      T b = kFirst ? d : buf[i] * mom + omd * d;
      buf[i] = b;
      d = kNesterov ? d + mom * b : b;
    }
    p[i] = p[i] + neg_lr * d;
  }
}

template <typename T, bool kWeightDecay, bool kMomentum, bool kFirst, bool kNesterov>
void sgd_kernel(T* p, const T* g, T* buf, int64_t n, const SGDScalars& s) {
  const T neg_lr = -s.lr, mom = s.momentum, omd = 1 - s.dampening, wd = s.weight_decay;
  detail::for_each_chunk(n, [&](int64_t begin, int64_t end) {
    sgd_range<T, kWeightDecay, kMomentum, kFirst, kNesterov>(p, g, buf, begin, end, neg_lr, mom, omd, wd);
  });
}

}  // namespace

SGD::SGD(const std::vector<ParamGroup>& groups, const SGDOptions& d)
    : Optimizer("SGD",
                GroupOptions{.lr = d.lr,
                             .weight_decay = d.weight_decay,
                             .momentum = d.momentum,
                             .dampening = d.dampening,
                             .nesterov = d.nesterov},
                {"lr", "momentum", "dampening", "weight_decay", "nesterov"}, {"momentum_buffer"},
                /*has_step=*/false) {
  init_groups(groups);
}

void SGD::validate(const GroupOptions& o) const {
  NABLA_CHECK(o.lr >= 0, "SGD: invalid learning rate ", o.lr, " (must be >= 0)");
  NABLA_CHECK(o.momentum >= 0, "SGD: invalid momentum ", o.momentum, " (must be >= 0)");
  NABLA_CHECK(o.weight_decay >= 0, "SGD: invalid weight_decay ", o.weight_decay, " (must be >= 0)");
  NABLA_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
              "SGD: Nesterov momentum requires momentum > 0 and dampening == 0 (got momentum ", o.momentum,
              ", dampening ", o.dampening, ")");
}

void SGD::step() {
  for (size_t gi = 0; gi < params_.size(); ++gi) {
    const GroupOptions& o = group_options_[gi];
    SGDScalars s{o.lr, o.momentum, o.dampening, o.weight_decay};
    for (size_t i = 0; i < params_[gi].size(); ++i) {
      const Tensor& param = params_[gi][i];
      Tensor grad = param.grad();
      if (!grad.defined()) continue;
      ParamState& st = state_[gi][i];
      detail::FusedParam fp(param, grad, name_);
      bool momentum = o.momentum != 0, first = momentum && !st.buf[0].defined();
      if (momentum) fp.buffer(st.buf[0]), st.initialized = true;
      detail::dispatch_float(fp.dtype(), [&]<typename T>() {
        T* buf = momentum ? st.buf[0].data_ptr<T>() : nullptr;
        detail::dispatch_bool(o.weight_decay != 0, [&]<bool kWd>() {
          if (!momentum)
            return sgd_kernel<T, kWd, false, false, false>(fp.param<T>(), fp.grad<T>(), buf, fp.numel(), s);
          detail::dispatch_bool(first, [&]<bool kFirst>() {
            detail::dispatch_bool(o.nesterov, [&]<bool kNesterov>() {
              sgd_kernel<T, kWd, true, kFirst, kNesterov>(fp.param<T>(), fp.grad<T>(), buf, fp.numel(), s);
            });
          });
        });
      });
      fp.finish();
    }
  }
}

}  // namespace nabla::optim
