// nabla::F normalisation: batch_norm, layer_norm, group_norm (PyTorch semantics and defaults).
// Composites of core ops, so their gradients (and second derivatives) come from autograd.
//   auto y = nabla::F::batch_norm(x, running_mean, running_var, weight, bias, /*training=*/true);
//   auto z = nabla::F::layer_norm(x, {x.size(-1)}, gamma, beta);
//   auto g = nabla::F::group_norm(x, /*num_groups=*/4);
#pragma once
#include "nabla/shape.h"
#include "nabla/tensor.h"

namespace nabla::F {

/// Normalises x [N, C, *] per channel. training: with the batch statistics over N and the
/// spatial dims (biased variance), and, when the running buffers are given, updates them in place:
/// running = (1 - momentum) * running + momentum * batch_stat, using the UNBIASED variance for
/// running_var (as PyTorch). Not training: with running_mean / running_var. weight/bias [C] optional.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

/// Normalises over the trailing dims given by normalized_shape (biased variance); weight/bias
/// of that shape are optional.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

/// Splits the C channels of x [N, C, *] into num_groups groups and normalises each group of each
/// sample; weight/bias [C] optional.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

}  // namespace nabla::F
