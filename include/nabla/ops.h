// Free-function ops (PyTorch names). Every op runs through one dispatch: shape/dtype rule,
// kernel for the inputs' device, autograd node when needed. Binary ops broadcast like NumPy.
//   auto y = nabla::matmul(x, w) + b;
//   auto loss = nabla::cross_entropy(logits, labels);
#pragma once
#include <optional>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// ---- elementwise: arithmetic ---------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor mul(const Tensor& a, const Tensor& b);
/// True division: integer inputs give a float result.
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& a);
Tensor pow(const Tensor& a, const Tensor& exponent);
Tensor pow(const Tensor& a, const Scalar& exponent);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max);
/// Wraps a C++ number as a 0-dim tensor that promotes by category only.
Tensor scalar_tensor(const Scalar& s, Device device = kCPU);

// ---- elementwise: math and activations -----------------------------------------------------
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor sign(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor leaky_relu(const Tensor& a, double negative_slope = 0.01);
Tensor elu(const Tensor& a, double alpha = 1.0);
/// approximate: "none" (erf form) or "tanh".
Tensor gelu(const Tensor& a, const char* approximate = "none");
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);
/// Gauss error function (its own op: the gradient of gelu uses it).
Tensor erf(const Tensor& a);
Tensor softplus(const Tensor& a, double beta = 1.0, double threshold = 20.0);
Tensor silu(const Tensor& a);

// ---- comparisons and selection (bool results, no gradient) ----------------------------------
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
/// cond ? a : b elementwise, all three broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& a);

// ---- reductions (dims empty = all dims) --------------------------------------------------
Tensor sum(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
/// Maximum over the given dims (all dims when empty).
Tensor amax(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};
/// Max along one dim with the index of the first maximum (like torch.max(x, dim)).
ValuesIndices max(const Tensor& a, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& a);
Tensor min(const Tensor& a);
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& a, int64_t dim, bool keepdim = false);
/// Variance with Bessel's correction `correction` (1 = unbiased, like torch.var's default).
Tensor var(const Tensor& a, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& a, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& a, const Shape& dims, bool keepdim = false);
/// Sums `a` down to `shape` (the reverse of broadcasting); used by gradients of broadcast ops.
Tensor sum_to(const Tensor& a, const Shape& shape);

// ---- softmax and losses --------------------------------------------------------------------
Tensor softmax(const Tensor& a, int64_t dim);
Tensor log_softmax(const Tensor& a, int64_t dim);
/// reduction: "mean", "sum" or "none"; optional per-class `weight` [C] (the mean then divides by
/// the summed weight of the counted targets, like PyTorch).
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const char* reduction = "mean",
                int64_t ignore_index = -100, const Tensor& weight = {});
/// Softmax cross-entropy from logits [N, C] (or [C], [N, C, d...]) and class indices [N] (int64)
/// or class probabilities (a floating target of the logits' shape). See nabla::F::cross_entropy.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const char* reduction = "mean",
                     int64_t ignore_index = -100, const Tensor& weight = {}, double label_smoothing = 0.0);

// ---- linear algebra ------------------------------------------------------------------------
/// mm, bmm and batch-broadcast matmul like torch.matmul (1-d operands are promoted and squeezed).
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
/// x @ weight^T + bias with weight [out, in] (PyTorch layout); bias optional.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

// ---- convolution and pooling (NCHW) --------------------------------------------------------
struct Conv2dOptions {
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  int64_t groups = 1;
};
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const Conv2dOptions& opt = {});
struct ConvTranspose2dOptions {
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t output_padding[2] = {0, 0};  // extra rows/cols on the bottom/right; < stride
  int64_t dilation[2] = {1, 1};
  int64_t groups = 1;
};
/// Transposed convolution (the gradient of conv2d w.r.t. its input) with PyTorch's weight layout
/// [C_in, C_out/groups, kH, kW]; output H = (H_in-1)*stride - 2*padding + dilation*(kH-1) + output_padding
/// + 1.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                        const ConvTranspose2dOptions& opt = {});
struct Pool2dOptions {
  int64_t kernel[2] = {2, 2};
  int64_t stride[2] = {0, 0};  // 0 = same as kernel
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};  // max_pool2d only
  /// Output size rounds up (PyTorch's ceil_mode): a last, partial window is kept when it starts
  /// inside the input or its left padding.
  bool ceil_mode = false;
  /// avg_pool2d: padded zeros count in the divisor (PyTorch's default, True).
  bool count_include_pad = true;
  /// avg_pool2d: divide every window sum by this instead (0 = no override).
  int64_t divisor_override = 0;
};
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& opt = {});
/// max_pool2d(relu(x)), computed as relu(max_pool2d(x)) (equal: max commutes with ReLU) in one
/// pass without the full-size ReLU tensor; nn::Sequential uses it for ReLU followed by MaxPool2d.
Tensor relu_max_pool2d(const Tensor& x, const Pool2dOptions& opt = {});
/// max_pool2d(relu(conv2d(x, weight, bias))) as one op: each image's conv output is pooled while it
/// is in cache (never stored whole), and the backward pass visits only the pool's winners (the
/// conv's output gradient is zero elsewhere), about a quarter of the conv backward's work for a
/// 2x2 pool. Same values as the three ops; gradients equal up to float rounding (summed in another
/// order). nn::Sequential uses it for Conv2d -> ReLU -> MaxPool2d.
Tensor conv2d_relu_max_pool2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& conv,
                              const Pool2dOptions& pool = {});
/// max_pool2d and where each maximum came from (PyTorch's return_indices=True): int64 indices
/// h * W + w into each input plane [H, W], first maximum in a window (a NaN wins). Not
/// differentiable themselves; they feed max_unpool2d.
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Pool2dOptions& opt = {});
struct MaxUnpool2dOptions {
  int64_t kernel[2] = {2, 2};
  int64_t stride[2] = {0, 0};  // 0 = same as kernel
  int64_t padding[2] = {0, 0};
  /// Output [H, W]; {0, 0} = (in - 1) * stride - 2 * padding + kernel. Pass the pooled input's size
  /// when pooling dropped rows/columns (e.g. an odd size with kernel 2).
  int64_t output_size[2] = {0, 0};
};
/// The partial inverse of max_pool2d (PyTorch's max_unpool2d): each value goes back to the
/// position its index names, zeros elsewhere. Positions named by several windows (overlapping
/// pools) hold the (equal) value once, and their gradient is shared among those windows.
Tensor max_unpool2d(const Tensor& x, const Tensor& indices, const MaxUnpool2dOptions& opt = {});
/// Average pooling; by default padded zeros count in the divisor (PyTorch's count_include_pad=True).
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& opt = {});
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

// ---- shape and indexing --------------------------------------------------------------------
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
/// Pieces of `split_size` along dim (the last may be smaller).
std::vector<Tensor> split(const Tensor& a, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& a, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& a, int64_t chunks, int64_t dim = 0);
Tensor gather(const Tensor& a, int64_t dim, const Tensor& index);
/// out = a; out[index[i][j]][j] += src[i][j] (for dim 0), like torch.scatter_add.
Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index);
/// out = a; out.select(dim, index[k]) += alpha * src.select(dim, k) (the gradient of index_select).
Tensor index_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src,
                 const Scalar& alpha = 1);
/// int64 class indices -> int64 one-hot with a trailing dim of num_classes (-1 = max + 1).
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);
/// Rows of `weight` [num, dim] selected by int64 `indices` (any shape).
Tensor embedding(const Tensor& weight, const Tensor& indices);
/// Constant padding; pads = {last_lo, last_hi, prev_lo, prev_hi, ...} as torch.nn.functional.pad.
Tensor pad(const Tensor& a, const std::vector<int64_t>& pads, double value = 0.0);
Tensor masked_fill(const Tensor& a, const Tensor& mask, const Scalar& value);
Tensor tril(const Tensor& a, int64_t diagonal = 0);
Tensor triu(const Tensor& a, int64_t diagonal = 0);

// ---- operators -----------------------------------------------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Scalar& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Scalar& b);
Tensor operator<(const Tensor& a, const Scalar& b);
Tensor operator>(const Tensor& a, const Scalar& b);

/// PyTorch's result_type over tensors (0-dim tensors and wrapped numbers promote by category).
DType result_type(std::initializer_list<Tensor> tensors);
/// True when a and b have the same shape and |a - b| <= atol + rtol * |b| everywhere.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);
bool equal(const Tensor& a, const Tensor& b);

}  // namespace nabla
