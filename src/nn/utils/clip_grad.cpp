// Gradient clipping. The total norm is accumulated in double over fixed blocks combined in order,
// so it does not depend on the thread count.
#include "nabla/nn/utils/clip_grad.h"

#include <cmath>

#include "backend/cpu/parallel.h"
#include "nabla/autograd.h"

namespace nabla::nn::utils {
namespace {

constexpr int64_t kBlock = 16384;

/// Sum of |x|^p (kind 0: p = 2, 1: p = 1, 2: general p) or max |x| (kind 3) over one block.
template <typename T>
double block_reduce(const T* x, int64_t n, int kind, double p) {
  double acc = 0;
  switch (kind) {
    case 0:
      for (int64_t i = 0; i < n; ++i) acc += double(x[i]) * double(x[i]);
      break;
    case 1:
      for (int64_t i = 0; i < n; ++i) acc += std::abs(double(x[i]));
      break;
    case 2:
      for (int64_t i = 0; i < n; ++i) acc += std::pow(std::abs(double(x[i])), p);
      break;
    default:
      for (int64_t i = 0; i < n; ++i) {
        double a = std::abs(double(x[i]));
        if (a > acc || std::isnan(a)) acc = a;
      }
  }
  return acc;
}

std::vector<Tensor> grads_of(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> grads;
  for (const auto& p : parameters)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  NABLA_CHECK(norm_type > 0, "clip_grad_norm_: norm_type must be > 0 (or infinity), got ", norm_type);
  std::vector<Tensor> grads = grads_of(parameters);
  if (grads.empty()) return 0.0;
  bool inf = std::isinf(norm_type);
  int kind = inf ? 3 : norm_type == 2 ? 0 : norm_type == 1 ? 1 : 2;
  double total = 0;
  for (const auto& grad : grads) {
    NABLA_CHECK(grad.device() == kCPU, "clip_grad_norm_: gradients on ", grad.device(),
                " are not supported yet");
    NABLA_CHECK(grad.is_floating_point(), "clip_grad_norm_: gradient has dtype ", grad.dtype(),
                ", expected floating");
    Tensor g = grad.dtype() == kFloat64 ? grad.contiguous() : grad.to(kFloat32).contiguous();
    int64_t n = g.numel(), blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> partial(blocks);
    cpu::parallel_for(0, blocks, 2, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        int64_t len = std::min(kBlock, n - k * kBlock);
        partial[k] = g.dtype() == kFloat64
                         ? block_reduce(g.data_ptr<double>() + k * kBlock, len, kind, norm_type)
                         : block_reduce(g.data_ptr<float>() + k * kBlock, len, kind, norm_type);
      }
    });
    for (double v : partial) total = inf ? ((v > total || std::isnan(v)) ? v : total) : total + v;
  }
  if (!inf) total = kind == 0 ? std::sqrt(total) : kind == 1 ? total : std::pow(total, 1.0 / norm_type);
  NABLA_CHECK(!error_if_nonfinite || std::isfinite(total), "clip_grad_norm_: the total norm of order ",
              norm_type, " of the gradients is ", total, "; set error_if_nonfinite = false to clip anyway");
  double coef = max_norm / (total + 1e-6);
  if (coef < 1 || std::isnan(coef)) {  // PyTorch multiplies by clamp(coef, max=1): 1 changes nothing
    NoGradGuard no_grad;
    for (auto& g : grads) Tensor(g).mul_(coef);
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  NABLA_CHECK(clip_value >= 0, "clip_grad_value_: clip_value must be >= 0, got ", clip_value);
  NoGradGuard no_grad;
  for (auto& g : grads_of(parameters)) Tensor(g).clamp_(-clip_value, clip_value);
}

}  // namespace nabla::nn::utils
