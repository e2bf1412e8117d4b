// nn::init: in-place parameter initialisers with PyTorch's names, formulas and defaults. Each runs
// under NoGradGuard, draws from the default generator (or `gen`), and returns its argument.
//   auto w = nabla::empty({64, 784});
//   nabla::nn::init::kaiming_uniform_(w, std::sqrt(5.0));      // Linear's default weight init
//   nabla::nn::init::xavier_normal_(w, nabla::nn::init::calculate_gain("tanh"));
#pragma once
#include "nabla/generator.h"
#include "nabla/tensor.h"

namespace nabla::nn::init {

/// Recommended gain for a nonlinearity: "linear", "conv1d", "conv2d", "sigmoid" -> 1, "tanh" ->
/// 5/3, "relu" -> sqrt(2), "leaky_relu" -> sqrt(2 / (1 + param^2)) (param defaults to 0.01), "selu" -> 3/4.
double calculate_gain(const char* nonlinearity, double param = -1);
/// (fan_in, fan_out) of a weight [out, in, *kernel]: in * kernel size, out * kernel size.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

Tensor uniform_(Tensor t, double low = 0.0, double high = 1.0, Generator* gen = nullptr);
Tensor normal_(Tensor t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor constant_(Tensor t, double value);
Tensor zeros_(Tensor t);
Tensor ones_(Tensor t);
/// Identity matrix in a 2-d tensor.
Tensor eye_(Tensor t);
/// Uniform(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor t, double gain = 1.0, Generator* gen = nullptr);
/// Normal(0, gain * sqrt(2 / (fan_in + fan_out))).
Tensor xavier_normal_(Tensor t, double gain = 1.0, Generator* gen = nullptr);
/// Uniform(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a);
/// mode "fan_in" (default) or "fan_out".
Tensor kaiming_uniform_(Tensor t, double a = 0.0, const char* mode = "fan_in",
                        const char* nonlinearity = "leaky_relu", Generator* gen = nullptr);
/// Normal(0, gain / sqrt(fan)).
Tensor kaiming_normal_(Tensor t, double a = 0.0, const char* mode = "fan_in",
                       const char* nonlinearity = "leaky_relu", Generator* gen = nullptr);
/// A (semi-)orthogonal matrix from the QR decomposition of a normal sample (trailing dims flattened).
Tensor orthogonal_(Tensor t, double gain = 1.0, Generator* gen = nullptr);

}  // namespace nabla::nn::init
