// nabla::F — the functional face of nn: the same operations as the nn layers, as free functions
// (torch.nn.functional). Layers call these; use them directly in forward() when no state is needed.
//   x = nabla::F::relu(fc1(x));
//   auto p = nabla::F::softmax(logits, 1);
//   auto y = nabla::F::max_pool2d(x, {.kernel = {2, 2}});
#pragma once
#include "nabla/ops.h"
// Functions with their own files (dropout, normalization, losses, pad modes):
#include "nabla/nn/functional/dropout.h"
#include "nabla/nn/functional/loss.h"
#include "nabla/nn/functional/normalization.h"
#include "nabla/nn/functional/padding.h"

namespace nabla::F {

// ---- activations ---------------------------------------------------------------------------
inline Tensor relu(const Tensor& x) { return nabla::relu(x); }
inline Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01) {
  return nabla::leaky_relu(x, negative_slope);
}
/// approximate: "none" (erf form) or "tanh".
inline Tensor gelu(const Tensor& x, const char* approximate = "none") { return nabla::gelu(x, approximate); }
inline Tensor silu(const Tensor& x) { return nabla::silu(x); }
inline Tensor sigmoid(const Tensor& x) { return nabla::sigmoid(x); }
inline Tensor tanh(const Tensor& x) { return nabla::tanh(x); }
inline Tensor elu(const Tensor& x, double alpha = 1.0) { return nabla::elu(x, alpha); }
inline Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0) {
  return nabla::softplus(x, beta, threshold);
}
inline Tensor softmax(const Tensor& x, int64_t dim) { return nabla::softmax(x, dim); }
inline Tensor log_softmax(const Tensor& x, int64_t dim) { return nabla::log_softmax(x, dim); }

// ---- linear and convolution ----------------------------------------------------------------
/// x @ weight^T + bias, weight [out, in].
inline Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {}) {
  return nabla::linear(x, weight, bias);
}
/// y_k = x1^T W_k x2 + b_k with weight [out, in1, in2]; x1 [..., in1], x2 [..., in2].
Tensor bilinear(const Tensor& x1, const Tensor& x2, const Tensor& weight, const Tensor& bias = {});
inline Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                     const Conv2dOptions& opt = {}) {
  return nabla::conv2d(x, weight, bias, opt);
}
struct Conv1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
};
/// 1-d convolution of x [N, C, L] (or [C, L]) with weight [C_out, C/groups, k] (runs conv2d on a height-1
/// image).
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv1dOptions& opt = {});
inline Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                               const ConvTranspose2dOptions& opt = {}) {
  return nabla::conv_transpose2d(x, weight, bias, opt);
}

// ---- pooling -------------------------------------------------------------------------------
inline Tensor max_pool2d(const Tensor& x, const Pool2dOptions& opt = {}) { return nabla::max_pool2d(x, opt); }
inline std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Pool2dOptions& opt = {}) {
  return nabla::max_pool2d_with_indices(x, opt);
}
inline Tensor max_unpool2d(const Tensor& x, const Tensor& indices, const MaxUnpool2dOptions& opt = {}) {
  return nabla::max_unpool2d(x, indices, opt);
}
/// Padded zeros count in the divisor (count_include_pad=True).
inline Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& opt = {}) { return nabla::avg_pool2d(x, opt); }
inline Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  return nabla::adaptive_avg_pool2d(x, out_h, out_w);
}

// ---- shape and lookup ----------------------------------------------------------------------
inline Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1) {
  return x.flatten(start_dim, end_dim);
}
/// Rows of weight [num, dim] picked by int64 indices of any shape.
inline Tensor embedding(const Tensor& indices, const Tensor& weight) {
  return nabla::embedding(weight, indices);
}
/// PyTorch's embedding max_norm step: rows of weight [num, dim] named in `indices` whose p-norm
/// exceeds max_norm are scaled in place by max_norm / (norm + 1e-7), without autograd. Indices out
/// of range throw nabla::Error before anything changes.
void embedding_renorm_(const Tensor& weight, const Tensor& indices, double max_norm, double norm_type = 2.0);
inline Tensor one_hot(const Tensor& indices, int64_t num_classes = -1) {
  return nabla::one_hot(indices, num_classes);
}
/// Constant padding; pads = {last_lo, last_hi, prev_lo, prev_hi, ...}.
inline Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value = 0.0) {
  return nabla::pad(x, pads, value);
}

}  // namespace nabla::F
