// Activation layers: thin modules over nabla::F.
#include "nabla/nn/activation.h"

#include "nabla/nn/functional.h"
#include "nn/repr.h"

namespace nabla::nn {

Tensor ReLUImpl::forward(Tensor x) { return F::relu(x); }
Tensor LeakyReLUImpl::forward(Tensor x) { return F::leaky_relu(x, negative_slope); }
std::string LeakyReLUImpl::extra_repr() const { return "negative_slope=" + repr::py_float(negative_slope); }
GELUImpl::GELUImpl(std::string a) : approximate(std::move(a)) {
  NABLA_CHECK(approximate == "none" || approximate == "tanh",
              "GELU: approximate must be \"none\" or \"tanh\", got \"", approximate, "\"");
}
Tensor GELUImpl::forward(Tensor x) { return F::gelu(x, approximate.c_str()); }
std::string GELUImpl::extra_repr() const { return "approximate='" + approximate + "'"; }
Tensor SiLUImpl::forward(Tensor x) { return F::silu(x); }
Tensor SigmoidImpl::forward(Tensor x) { return F::sigmoid(x); }
Tensor TanhImpl::forward(Tensor x) { return F::tanh(x); }
Tensor SoftmaxImpl::forward(Tensor x) { return F::softmax(x, dim); }
Tensor LogSoftmaxImpl::forward(Tensor x) { return F::log_softmax(x, dim); }

}  // namespace nabla::nn
