// Adam and AdamW: one fused pass per parameter (PyTorch 1.13's _single_tensor_adam/_adamw).
#include "nabla/optim/adam.h"

#include <algorithm>
#include <cmath>

#include "graph/trace.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/optim/adamw.h"
#include "ops/registry.h"

namespace nabla::optim {

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

void Adam::advance(size_t gi, size_t i) {
  const GroupOptions& o = group_options_[gi];
  ParamState& st = state_[gi][i];
  st.step += 1;
  if (!st.hyper.defined()) st.hyper = zeros({6}, kFloat64);
  double* h = st.hyper.data_ptr<double>();
  h[0] = o.lr, h[1] = o.beta1, h[2] = o.beta2, h[3] = o.eps, h[4] = o.weight_decay, h[5] = st.step;
}

void Adam::step() {
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < params_.size(); ++gi) {
    const GroupOptions& o = group_options_[gi];
    for (size_t i = 0; i < params_[gi].size(); ++i) {
      const Tensor& param = params_[gi][i];
      Tensor grad = param.grad();
      if (!grad.defined()) continue;
      NABLA_CHECK(grad.shape() == param.shape(), name_, ": gradient has shape ", grad.shape(),
                  " but the parameter has shape ", param.shape());
      ParamState& st = state_[gi][i];
      Tensor work = param.is_contiguous() ? param : param.contiguous();
      Tensor g = grad.dtype() == param.dtype() ? grad : grad.to(param.dtype());
      if (!st.buf[0].defined() || (o.amsgrad && !st.buf[2].defined())) graph::bump_state_epoch();
      for (int k = 0; k < (o.amsgrad ? 3 : 2); ++k)
        if (!st.buf[k].defined()) st.buf[k] = zeros(param.shape(), param.dtype());
      st.initialized = true;
      advance(gi, i);
      if (graph::Tracer* t = graph::active_tracer()) t->add_host_call([this, gi, i] { advance(gi, i); });
      Tensor vmax = o.amsgrad ? st.buf[2] : empty({0}, param.dtype());
      ops::Attrs a;
      a.i[0] = decoupled_ ? 2 : o.weight_decay != 0 ? 1 : 0;
      a.i[1] = o.amsgrad;
      Tensor in[6] = {work, g, st.buf[0], st.buf[1], vmax, st.hyper};
      Tensor out[4] = {work, st.buf[0], st.buf[1], vmax};
      ops::dispatch_update(ops::OpId::adam_step, in, 6, a, out);
      if (work.impl() != param.impl()) Tensor(param.impl()).detach().copy_(work);
    }
  }
}

}  // namespace nabla::optim
