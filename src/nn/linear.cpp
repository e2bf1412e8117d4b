// Linear, Bilinear: parameter creation, PyTorch-equivalent default init, forward and printing.
#include "nabla/nn/linear.h"

#include <cmath>
#include <sstream>

#include "nabla/creation.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"

namespace nabla::nn {

LinearImpl::LinearImpl(const Options& o) : options(o) {
  NABLA_CHECK(o.in >= 0 && o.out >= 0, "Linear: in and out features must be non-negative, got in=", o.in,
              ", out=", o.out);
  reset();
}

void LinearImpl::reset() {
  weight = register_parameter("weight", empty({options.out, options.in}));
  bias = register_parameter("bias", options.bias ? empty({options.out}) : Tensor());
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    double b = options.in > 0 ? 1.0 / std::sqrt(double(options.in)) : 0.0;
    init::uniform_(bias, -b, b);
  }
}

Tensor LinearImpl::forward(Tensor x) {
  NABLA_CHECK(x.dim() >= 1 && x.size(-1) == options.in, "Linear: expected input of shape [..., ", options.in,
              "] (in_features=", options.in, "), got shape ", x.shape());
  return F::linear(x, weight, bias);
}

std::string LinearImpl::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << options.in << ", out_features=" << options.out
     << ", bias=" << (options.bias ? "True" : "False");
  return os.str();
}

BilinearImpl::BilinearImpl(const Options& o) : options(o) {
  NABLA_CHECK(o.in1 >= 0 && o.in2 >= 0 && o.out >= 0, "Bilinear: feature sizes must be non-negative");
  reset();
}

void BilinearImpl::reset() {
  weight = register_parameter("weight", empty({options.out, options.in1, options.in2}));
  bias = register_parameter("bias", options.bias ? empty({options.out}) : Tensor());
  reset_parameters();
}

// PyTorch: bound = 1/sqrt(in1) for both weight and bias.
void BilinearImpl::reset_parameters() {
  double b = options.in1 > 0 ? 1.0 / std::sqrt(double(options.in1)) : 0.0;
  init::uniform_(weight, -b, b);
  if (bias.defined()) init::uniform_(bias, -b, b);
}

Tensor BilinearImpl::forward(const Tensor& x1, const Tensor& x2) { return F::bilinear(x1, x2, weight, bias); }

std::string BilinearImpl::extra_repr() const {
  std::ostringstream os;
  os << "in1_features=" << options.in1 << ", in2_features=" << options.in2 << ", out_features=" << options.out
     << ", bias=" << (options.bias ? "True" : "False");
  return os.str();
}

}  // namespace nabla::nn
