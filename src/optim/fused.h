// Internal: the shared frame of every fused optimizer step. For one parameter it provides the
// contiguous data to update (the parameter itself, or a temporary copy for a non-contiguous view,
// written back afterwards), the gradient as contiguous data of the parameter's dtype, and state
// buffers; the optimizer's kernel then makes one pass over the elements, split by parallel_for.
// Each element's update depends only on that element, so results do not depend on the threads.
#pragma once
#include <cmath>

#include "backend/cpu/parallel.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/tensor.h"

namespace nabla::optim::detail {

class FusedParam {
 public:
  FusedParam(const Tensor& param, const Tensor& grad, const std::string& who) : param_(param) {
    NABLA_CHECK(grad.shape() == param.shape(), who, ": gradient has shape ", grad.shape(),
                " but the parameter has shape ", param.shape());
    work_ = param.is_contiguous() ? param : param.contiguous();
    grad_ = grad.dtype() == param.dtype() ? grad : grad.to(param.dtype());
    if (!grad_.is_contiguous()) grad_ = grad_.contiguous();
  }
  /// Call after the kernel: writes back a temporary copy and bumps the parameter's version
  /// counter (the update is an in-place write that autograd must be able to see).
  void finish() {
    if (work_.impl() != param_.impl())
      Tensor(param_.impl()).detach().copy_(work_);  // copy_ bumps the version itself
    else
      param_.impl()->storage->version.fetch_add(1, std::memory_order_relaxed);
  }
  FusedParam(const FusedParam&) = delete;
  FusedParam& operator=(const FusedParam&) = delete;

  int64_t numel() const { return param_.numel(); }
  DType dtype() const { return param_.dtype(); }
  template <typename T>
  T* param() const {
    return work_.data_ptr<T>();
  }
  template <typename T>
  const T* grad() const {
    return grad_.data_ptr<T>();
  }
  /// A zero-filled (or `fill`-filled) contiguous buffer shaped like the parameter, created once.
  Tensor& buffer(Tensor& slot, double fill = 0) const {
    if (!slot.defined()) slot = full(param_.shape(), fill, param_.dtype());
    return slot;
  }

 private:
  NoGradGuard no_grad_;  // first member: the copies below and the write-back record no history
  Tensor param_, work_, grad_;
};

/// Runs body(begin, end) over [0, n) on nabla's threads (inline below the grain size).
template <typename F>
void for_each_chunk(int64_t n, const F& body) {
  cpu::parallel_for(0, n, cpu::kGrainSize, body);
}

/// Calls f.template operator()<T>() for T = float or double (parameters are one of the two).
template <typename F>
void dispatch_float(DType dtype, const F& f) {
  if (dtype == kFloat64)
    f.template operator()<double>();
  else
    f.template operator()<float>();
}

/// Turns a runtime flag into a compile-time one, so hot loops carry no per-element branch.
template <typename F>
void dispatch_bool(bool b, const F& f) {
  if (b)
    f.template operator()<true>();
  else
    f.template operator()<false>();
}

}  // namespace nabla::optim::detail
