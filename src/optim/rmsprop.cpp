// RMSprop: one fused pass per parameter (PyTorch 1.13's _single_tensor_rmsprop), through the
// registry op rmsprop_step (src/ops/optim/rmsprop_cpu.cpp), so a compiled training graph contains
// the same update; lr and the other options are read from a float64 tensor refreshed per step.
#include "nabla/optim/rmsprop.h"

#include <cmath>

#include "graph/trace.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "ops/registry.h"

namespace nabla::optim {

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

void RMSprop::advance(size_t gi, size_t i) {
  const GroupOptions& o = group_options_[gi];
  ParamState& st = state_[gi][i];
  st.step += 1;
  if (!st.hyper.defined()) st.hyper = zeros({5}, kFloat64);
  double* h = st.hyper.data_ptr<double>();
  h[0] = o.lr, h[1] = o.alpha, h[2] = o.eps, h[3] = o.weight_decay, h[4] = o.momentum;
}

void RMSprop::step() {
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < params_.size(); ++gi) {
    const GroupOptions& o = group_options_[gi];
    const bool momentum = o.momentum > 0;
    for (size_t i = 0; i < params_[gi].size(); ++i) {
      const Tensor& param = params_[gi][i];
      Tensor grad = param.grad();
      if (!grad.defined()) continue;
      NABLA_CHECK(grad.shape() == param.shape(), name_, ": gradient has shape ", grad.shape(),
                  " but the parameter has shape ", param.shape());
      ParamState& st = state_[gi][i];
      Tensor work = param.is_contiguous() ? param : param.contiguous();
      Tensor g = grad.dtype() == param.dtype() ? grad : grad.to(param.dtype());
      // State created lazily: compiled steps retrace once it exists.
      const bool need[3] = {true, momentum, o.centered};
      for (int k = 0; k < 3; ++k)
        if (need[k] && !st.buf[k].defined()) {
          st.buf[k] = zeros(param.shape(), param.dtype());
          graph::bump_state_epoch();
        }
      st.initialized = true;
      advance(gi, i);
      if (graph::Tracer* t = graph::active_tracer()) t->add_host_call([this, gi, i] { advance(gi, i); });
      Tensor none = empty({0}, param.dtype());
      Tensor buf = momentum ? st.buf[1] : none, gavg = o.centered ? st.buf[2] : none;
      Tensor in[6] = {work, g, st.buf[0], buf, gavg, st.hyper};
      Tensor out[4] = {work, st.buf[0], buf, gavg};
      ops::dispatch_update(ops::OpId::rmsprop_step, in, 6, ops::Attrs{}, out);
      if (work.impl() != param.impl()) Tensor(param.impl()).detach().copy_(work);
    }
  }
}

}  // namespace nabla::optim
