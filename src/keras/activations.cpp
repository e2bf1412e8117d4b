// keras::activations: name -> function, over nabla's ops (softmax on the last axis, as Keras).
#include "nabla/keras/activations.h"

#include <cmath>
#include <map>

#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla::keras::activations {
namespace {
Tensor linear(const Tensor& x) { return x; }
Tensor relu(const Tensor& x) { return nabla::relu(x); }
Tensor sigmoid(const Tensor& x) { return nabla::sigmoid(x); }
Tensor tanh_(const Tensor& x) { return nabla::tanh(x); }
Tensor softmax(const Tensor& x) { return nabla::softmax(x, -1); }
Tensor log_softmax(const Tensor& x) { return nabla::log_softmax(x, -1); }
Tensor gelu(const Tensor& x) { return nabla::gelu(x, "none"); }
Tensor silu(const Tensor& x) { return nabla::silu(x); }
Tensor elu(const Tensor& x) { return nabla::elu(x, 1.0); }
Tensor selu(const Tensor& x) {
  constexpr double kAlpha = 1.6732632423543772848170429916717;
  constexpr double kScale = 1.0507009873554804934193349852946;
  return nabla::elu(x, kAlpha) * kScale;
}
Tensor softplus(const Tensor& x) { return nabla::softplus(x); }
Tensor softsign(const Tensor& x) { return x / (nabla::abs(x) + 1.0); }
Tensor leaky_relu(const Tensor& x) { return nabla::leaky_relu(x, 0.2); }  // Keras's default slope
Tensor exponential(const Tensor& x) { return nabla::exp(x); }
Tensor relu6(const Tensor& x) { return nabla::clamp(x, Scalar(0.0), Scalar(6.0)); }
Tensor hard_sigmoid(const Tensor& x) { return nabla::clamp(x / 6.0 + 0.5, Scalar(0.0), Scalar(1.0)); }

const std::map<std::string, Fn>& table() {
  static const std::map<std::string, Fn> t = {{"linear", linear},
                                              {"relu", relu},
                                              {"sigmoid", sigmoid},
                                              {"tanh", tanh_},
                                              {"softmax", softmax},
                                              {"log_softmax", log_softmax},
                                              {"gelu", gelu},
                                              {"silu", silu},
                                              {"elu", elu},
                                              {"selu", selu},
                                              {"softplus", softplus},
                                              {"softsign", softsign},
                                              {"leaky_relu", leaky_relu},
                                              {"exponential", exponential},
                                              {"relu6", relu6},
                                              {"hard_sigmoid", hard_sigmoid}};
  return t;
}
}  // namespace

std::string canonical(const std::string& name) {
  if (name.empty() || name == "None") return "linear";
  if (name == "swish") return "silu";
  return name;
}

Fn get(const std::string& name) {
  auto it = table().find(canonical(name));
  if (it == table().end()) {
    std::string valid;
    for (const auto& [k, v] : table()) valid += (valid.empty() ? "" : ", ") + k;
    nabla::detail::throw_error("activations: unknown activation '", name, "' (expected one of ", valid,
                               ", swish)");
  }
  return it->second;
}

}  // namespace nabla::keras::activations
