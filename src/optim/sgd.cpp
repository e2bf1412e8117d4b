// SGD: one fused pass per parameter (PyTorch 1.13's _single_tensor_sgd).
#include "nabla/optim/sgd.h"

#include "graph/trace.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "ops/registry.h"

namespace nabla::optim {

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

void SGD::advance(size_t gi, size_t i) {
  const GroupOptions& o = group_options_[gi];
  ParamState& st = state_[gi][i];
  if (!st.hyper.defined()) st.hyper = zeros({4}, kFloat64);
  double* h = st.hyper.data_ptr<double>();
  h[0] = o.lr, h[1] = o.momentum, h[2] = o.dampening, h[3] = o.weight_decay;
}

void SGD::step() {
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
      bool momentum = o.momentum != 0, first = momentum && !st.buf[0].defined();
      if (first) {
        st.buf[0] = zeros(param.shape(), param.dtype());
        st.initialized = true;
        graph::bump_state_epoch();
      }
      advance(gi, i);
      if (graph::Tracer* t = graph::active_tracer()) t->add_host_call([this, gi, i] { advance(gi, i); });
      Tensor buf = momentum ? st.buf[0] : empty({0}, param.dtype());
      ops::Attrs a;
      a.i[0] = first;
      a.i[1] = o.nesterov;
      Tensor in[4] = {work, g, buf, st.hyper};
      Tensor out[2] = {work, buf};
      ops::dispatch_update(ops::OpId::sgd_step, in, 4, a, out);
      if (work.impl() != param.impl()) Tensor(param.impl()).detach().copy_(work);
    }
  }
}

}  // namespace nabla::optim
