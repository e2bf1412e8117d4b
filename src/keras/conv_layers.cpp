// Keras image layers (channels-last API) over nn::Conv2d and nabla's pooling ops. Inside, a
// 4-d flow is kept channels-first between image layers, so a stack of them transposes once.
#include <cmath>
#include <limits>

#include "nabla/creation.h"
#include "nabla/keras/activations.h"
#include "nabla/keras/layers/convolutional.h"
#include "nabla/ops.h"

namespace nabla::keras::layers {
namespace {
/// TensorFlow's "same" padding along one dim: (before, after) so that out = ceil(in / stride).
std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t k_eff, int64_t stride) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + k_eff - in, 0);
  return {total / 2, total - total / 2};
}
int64_t out_dim(int64_t in, int64_t k_eff, int64_t stride, bool same) {
  if (in < 0) return -1;
  if (same) return (in + stride - 1) / stride;
  return in >= k_eff ? (in - k_eff) / stride + 1 : 0;
}
void check_padding(const std::string& who, const std::string& padding) {
  NABLA_CHECK(padding == "valid" || padding == "same", who, ": padding must be \"valid\" or \"same\", got \"",
              padding, "\"");
}
}  // namespace

// ---- Conv2D ----------------------------------------------------------------------------------
Conv2DImpl::Conv2DImpl(int64_t filters, nn::Size2 kernel_size, const Conv2DOptions& o)
    : Layer("Conv2D", "conv2d", o.name, o.input_shape),
      filters(filters),
      kernel_size(kernel_size),
      options(o) {
  NABLA_CHECK(filters > 0, "Conv2D: filters must be positive, got ", filters);
  NABLA_CHECK(kernel_size[0] > 0 && kernel_size[1] > 0, "Conv2D: kernel_size must be positive");
  check_padding("Conv2D", o.padding);
  options.activation = activations::canonical(o.activation);
  activations::get(options.activation);
}

TensorShape Conv2DImpl::compute_output_shape(const TensorShape& in) {
  if (in.size() != 4) shape_error("a 4-d input (batch, height, width, channels)", in);
  if (in[3] <= 0) shape_error("a known number of channels (last dimension)", in);
  if (conv && conv->options.in != in[3])
    shape_error(
        std::to_string(conv->options.in) + " channels (built for " + shape_str(input_shapes()[0]) + ")", in);
  const bool same = options.padding == "same";
  TensorShape out{in[0], 0, 0, filters};
  for (int d = 0; d < 2; ++d) {
    int64_t k_eff = options.dilation_rate[d] * (kernel_size[d] - 1) + 1;
    out[1 + d] = out_dim(in[1 + d], k_eff, options.strides[d], same);
    if (out[1 + d] == 0)
      shape_error("height and width of at least the kernel size (" + std::to_string(kernel_size[0]) + ", " +
                      std::to_string(kernel_size[1]) + ") with padding \"valid\"",
                  in);
  }
  return out;
}

void Conv2DImpl::build(const TensorShape& in) {
  // "same" with stride 1 and an odd effective kernel pads symmetrically: let conv2d do it.
  nn::Size2 pad = 0;
  if (options.padding == "same") {
    int64_t k0 = options.dilation_rate[0] * (kernel_size[0] - 1),
            k1 = options.dilation_rate[1] * (kernel_size[1] - 1);
    if (options.strides == nn::Size2(1) && k0 % 2 == 0 && k1 % 2 == 0) pad = nn::Size2(k0 / 2, k1 / 2);
  }
  conv = nn::Conv2d(nn::Conv2dImpl::Options{.in = in[3],
                                            .out = filters,
                                            .kernel = kernel_size,
                                            .stride = options.strides,
                                            .padding = pad,
                                            .dilation = options.dilation_rate,
                                            .groups = 1,
                                            .bias = options.use_bias});
  register_module("conv", conv);
  initialize(conv->weight, options.kernel_initializer);  // fans: in*kh*kw, out*kh*kw, as Keras
  if (options.use_bias) initialize(conv->bias, options.bias_initializer);
}

Tensor Conv2DImpl::conv_nchw(const Tensor& x) {
  Tensor in = x;
  if (options.padding == "same" && conv->options.padding == nn::Size2(0)) {
    int64_t k0 = options.dilation_rate[0] * (kernel_size[0] - 1) + 1;
    int64_t k1 = options.dilation_rate[1] * (kernel_size[1] - 1) + 1;
    auto [t, b] = same_pads(x.size(2), k0, options.strides[0]);
    auto [l, r] = same_pads(x.size(3), k1, options.strides[1]);
    if (t || b || l || r) in = nabla::pad(x, {l, r, t, b});
  }
  return conv(in);
}

Tensor Conv2DImpl::nchw_input(const std::vector<Flow>& in) const {
  NABLA_CHECK(in.at(0).t.dim() == 4, "Conv2D '", layer_name(), "': expected a 4-d input, received shape ",
              in[0].t.shape());
  return channels_first(in[0]).contiguous();
}

Flow Conv2DImpl::call_flow_logits(const std::vector<Flow>& in) { return {conv_nchw(nchw_input(in)), true}; }

bool Conv2DImpl::pads_inside_conv() const {
  return options.padding == "valid" || (conv && !(conv->options.padding == nn::Size2(0)));
}

Flow Conv2DImpl::call_flow_relu_max_pool(const std::vector<Flow>& in, const Pool2dOptions& window) {
  NABLA_CHECK(pads_inside_conv(), "Conv2D '", layer_name(), "': this padding needs a separate pad op");
  return {conv->forward_relu_max_pool(nchw_input(in), window), true};
}

Flow Conv2DImpl::call_flow(const std::vector<Flow>& in) {
  Flow y = call_flow_logits(in);
  const auto& act = options.activation;
  if (act == "linear") return y;
  if (act == "softmax" || act == "log_softmax") return {activations::get(act)(channels_last(y)), false};
  return {activations::get(act)(y.t), true};
}

Tensor Conv2DImpl::to_keras_layout(size_t i, const Tensor& w) const {
  return i == 0 ? w.permute({2, 3, 1, 0}).contiguous() : w;  // [out, in, kh, kw] -> [kh, kw, in, out]
}
Tensor Conv2DImpl::from_keras_layout(size_t i, const Tensor& w) const {
  return i == 0 ? w.permute({3, 2, 0, 1}).contiguous() : w;
}

// ---- pooling ---------------------------------------------------------------------------------
Pooling2DImpl::Pooling2DImpl(bool max, nn::Size2 pool_size, const Pooling2DOptions& o)
    : Layer(max ? "MaxPooling2D" : "AveragePooling2D", max ? "max_pooling2d" : "average_pooling2d", o.name,
            o.input_shape),
      max(max),
      pool_size(pool_size),
      options(o) {
  if (options.strides[0] == 0) options.strides = pool_size;
  NABLA_CHECK(pool_size[0] > 0 && pool_size[1] > 0 && options.strides[0] > 0 && options.strides[1] > 0,
              type(), ": pool_size and strides must be positive");
  check_padding(type(), o.padding);
}

TensorShape Pooling2DImpl::compute_output_shape(const TensorShape& in) {
  if (in.size() != 4) shape_error("a 4-d input (batch, height, width, channels)", in);
  const bool same = options.padding == "same";
  TensorShape out{in[0], 0, 0, in[3]};
  for (int d = 0; d < 2; ++d) {
    out[1 + d] = out_dim(in[1 + d], pool_size[d], options.strides[d], same);
    if (out[1 + d] == 0)
      shape_error("height and width of at least pool_size (" + std::to_string(pool_size[0]) + ", " +
                      std::to_string(pool_size[1]) + ")",
                  in);
  }
  return out;
}

Flow Pooling2DImpl::call_flow(const std::vector<Flow>& in) { return pool_flow(in, false); }
Flow Pooling2DImpl::call_flow_after_relu(const std::vector<Flow>& in) { return pool_flow(in, true); }

Pool2dOptions Pooling2DImpl::window() const {
  Pool2dOptions p;
  for (int d = 0; d < 2; ++d) p.kernel[d] = pool_size[d], p.stride[d] = options.strides[d];
  return p;
}

Flow Pooling2DImpl::pool_flow(const std::vector<Flow>& in, bool relu_first) {
  NABLA_CHECK(in.at(0).t.dim() == 4, type(), " '", layer_name(), "': expected a 4-d input, received shape ",
              in[0].t.shape());
  Tensor x = channels_first(in[0]).contiguous();
  Pool2dOptions p = window();
  if (options.padding == "same") {
    auto [t, b] = same_pads(x.size(2), pool_size[0], options.strides[0]);
    auto [l, r] = same_pads(x.size(3), pool_size[1], options.strides[1]);
    if (t || b || l || r) {
      if (relu_first) x = relu(x);
      if (max)
        return {max_pool2d(nabla::pad(x, {l, r, t, b}, -std::numeric_limits<double>::infinity()), p), true};
      // Keras averages over the real cells only: divide by the pooled fraction of real cells.
      Tensor ones_map = nabla::pad(ones({1, 1, x.size(2), x.size(3)}, x.dtype()), {l, r, t, b});
      return {avg_pool2d(nabla::pad(x, {l, r, t, b}), p) / avg_pool2d(ones_map, p), true};
    }
  }
  if (max) return {relu_first ? relu_max_pool2d(x, p) : max_pool2d(x, p), true};
  return {avg_pool2d(relu_first ? relu(x) : x, p), true};
}

// ---- GlobalAveragePooling2D ----------------------------------------------------------------
GlobalAveragePooling2DImpl::GlobalAveragePooling2DImpl(const GlobalPoolingOptions& o)
    : Layer("GlobalAveragePooling2D", "global_average_pooling2d", o.name, o.input_shape), options(o) {}

TensorShape GlobalAveragePooling2DImpl::compute_output_shape(const TensorShape& in) {
  if (in.size() != 4) shape_error("a 4-d input (batch, height, width, channels)", in);
  if (options.keepdims) return {in[0], 1, 1, in[3]};
  return {in[0], in[3]};
}

Flow GlobalAveragePooling2DImpl::call_flow(const std::vector<Flow>& in) {
  NABLA_CHECK(in.at(0).t.dim() == 4, type(), " '", layer_name(), "': expected a 4-d input, received shape ",
              in[0].t.shape());
  Tensor x = channels_first(in[0]);
  Tensor y = x.mean({2, 3}, options.keepdims);
  return {y, options.keepdims};
}

}  // namespace nabla::keras::layers
