// Adagrad: one fused pass per parameter (PyTorch 1.13's _single_tensor_adagrad); the per-element
// math is adagrad_range in src/ops/optim/update_math.h.
#include "nabla/optim/adagrad.h"

#include <cmath>

#include "graph/trace.h"
#include "ops/optim/update_math.h"
#include "optim/fused.h"

namespace nabla::optim {
namespace {

template <typename T, bool kWeightDecay>
void adagrad_kernel(T* p, const T* g, T* sum, int64_t n, double clr, double eps, double wd) {
  detail::for_each_chunk(n, [&](int64_t begin, int64_t end) {
    ops::optim_cpu::adagrad_range<T, kWeightDecay>(p, g, sum, begin, end, T(-clr), T(eps), T(wd));
  });
}

}  // namespace

Adagrad::Adagrad(const std::vector<ParamGroup>& groups, const AdagradOptions& d)
    : Optimizer("Adagrad",
                GroupOptions{.lr = d.lr,
                             .weight_decay = d.weight_decay,
                             .eps = d.eps,
                             .lr_decay = d.lr_decay,
                             .initial_accumulator_value = d.initial_accumulator_value},
                {"lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"}, {"sum"},
                /*has_step=*/true) {
  init_groups(groups);
}

void Adagrad::validate(const GroupOptions& o) const {
  NABLA_CHECK(o.lr >= 0, "Adagrad: invalid learning rate ", o.lr, " (must be >= 0)");
  NABLA_CHECK(o.lr_decay >= 0, "Adagrad: invalid lr_decay ", o.lr_decay, " (must be >= 0)");
  NABLA_CHECK(o.weight_decay >= 0, "Adagrad: invalid weight_decay ", o.weight_decay, " (must be >= 0)");
  NABLA_CHECK(o.initial_accumulator_value >= 0, "Adagrad: invalid initial_accumulator_value ",
              o.initial_accumulator_value, " (must be >= 0)");
  NABLA_CHECK(o.eps >= 0, "Adagrad: invalid eps ", o.eps, " (must be >= 0)");
}

void Adagrad::step() {
  graph::check_not_tracing("Adagrad.step()", "its update has no graph op yet (SGD, Adam and AdamW do)");
  for (size_t gi = 0; gi < params_.size(); ++gi) {
    const GroupOptions& o = group_options_[gi];
    for (size_t i = 0; i < params_[gi].size(); ++i) {
      const Tensor& param = params_[gi][i];
      Tensor grad = param.grad();
      if (!grad.defined()) continue;
      ParamState& st = state_[gi][i];
      detail::FusedParam fp(param, grad, name_);
      // PyTorch fills the accumulator when the optimizer is built; filling it before the first
      // step gives the same numbers.
      Tensor& sum = fp.buffer(st.buf[0], o.initial_accumulator_value);
      st.initialized = true;
      st.step += 1;
      double clr = o.lr / (1 + (st.step - 1) * o.lr_decay);
      detail::dispatch_float(fp.dtype(), [&]<typename T>() {
        detail::dispatch_bool(o.weight_decay != 0, [&]<bool kWd>() {
          adagrad_kernel<T, kWd>(fp.param<T>(), fp.grad<T>(), sum.data_ptr<T>(), fp.numel(), clr, o.eps,
                                 o.weight_decay);
        });
      });
      fp.finish();
    }
  }
}

}  // namespace nabla::optim
