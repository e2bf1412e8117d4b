// gradcheck: analytical Jacobian (one backward per output element) against central finite
// differences (two forward passes per input element), in float64.
#include <cmath>
#include <sstream>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla::autograd {
namespace {

// Pointer to the k-th element (row-major order) of a float64 tensor with any strides.
double* element(const Tensor& t, int64_t k) {
  int64_t off = 0;
  for (int d = t.dim() - 1; d >= 0; --d) {
    int64_t n = t.shape()[d];
    off += (k % n) * t.strides()[d];
    k /= n;
  }
  return t.data_ptr<double>() + off;
}

std::vector<Tensor> float_outputs(const std::vector<Tensor>& outs) {
  std::vector<Tensor> r;
  for (const auto& o : outs)
    if (o.defined() && is_floating(o.dtype())) r.push_back(o);
  return r;
}

std::vector<double> flat_values(const std::vector<Tensor>& outs) {
  std::vector<double> v;
  for (const auto& o : outs) {
    auto ov = o.to_vector<double>();
    v.insert(v.end(), ov.begin(), ov.end());
  }
  return v;
}

}  // namespace

bool gradcheck(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
               const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  std::vector<Tensor> diff;  // inputs we differentiate with respect to
  std::vector<size_t> diff_index;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    NABLA_CHECK(inputs[i].dtype() == kFloat64, "gradcheck: input ", i,
                " must be float64 for finite differences, got ", inputs[i].dtype());
    diff.push_back(inputs[i]);
    diff_index.push_back(i);
  }
  NABLA_CHECK(!diff.empty(), "gradcheck: no input requires grad");

  std::vector<Tensor> outs = float_outputs(fn(inputs));
  int64_t n_out = 0;
  for (const auto& o : outs) n_out += o.numel();

  // Analytical Jacobian, row by row: J_a[out_k][input element].
  std::vector<std::vector<std::vector<double>>> ana(n_out);
  int64_t k = 0;
  for (size_t j = 0; j < outs.size(); ++j) {
    for (int64_t e = 0; e < outs[j].numel(); ++e, ++k) {
      std::vector<Tensor> gos;
      for (size_t m = 0; m < outs.size(); ++m) {
        Tensor g = zeros(outs[m].shape(), outs[m].dtype());
        if (m == j) *element(g, e) = 1.0;
        gos.push_back(g);
      }
      std::vector<Tensor> requiring, gos_req;
      for (size_t m = 0; m < outs.size(); ++m)
        if (outs[m].requires_grad()) requiring.push_back(outs[m]), gos_req.push_back(gos[m]);
      std::vector<Tensor> grads(diff.size());
      if (!requiring.empty())
        grads = grad(requiring, diff, gos_req, /*retain_graph=*/true, false, /*allow_unused=*/true);
      for (size_t i = 0; i < diff.size(); ++i) {
        std::vector<double> row(diff[i].numel(), 0.0);
        if (grads[i].defined()) row = grads[i].to(kFloat64).to_vector<double>();
        ana[k].push_back(row);
      }
    }
  }

  // Numerical Jacobian, column by column, compared as we go.
  for (size_t i = 0; i < diff.size(); ++i) {
    for (int64_t e = 0; e < diff[i].numel(); ++e) {
      double* p = element(diff[i], e);
      double orig = *p;
      std::vector<double> plus, minus;
      {
        NoGradGuard no_grad;
        *p = orig + opt.eps;
        plus = flat_values(float_outputs(fn(inputs)));
        *p = orig - opt.eps;
        minus = flat_values(float_outputs(fn(inputs)));
        *p = orig;
      }
      for (int64_t r = 0; r < n_out; ++r) {
        double num = (plus[r] - minus[r]) / (2 * opt.eps);
        double an = ana[r][i][e];
        if (std::fabs(num - an) > opt.atol + opt.rtol * std::fabs(num)) {
          std::ostringstream os;
          os << "gradcheck: Jacobian mismatch for input " << diff_index[i] << " (shape " << diff[i].shape()
             << "), element " << e << ", output element " << r << ": numerical " << num << " vs analytical "
             << an;
          throw Error(os.str());
        }
      }
    }
  }
  return true;
}

}  // namespace nabla::autograd
