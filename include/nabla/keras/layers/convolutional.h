// Keras image layers on channels-last inputs (batch, height, width, channels): Conv2D,
// MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D. They wrap nn::Conv2d / F pooling and
// keep consecutive image layers channels-first internally, so a stack of them transposes once.
//   auto cnn = nabla::keras::Sequential({
//       layers::Conv2D(32, 3, {.padding = "same", .activation = "relu", .input_shape = {28, 28, 1}}),
//       layers::MaxPooling2D(2), layers::Flatten(), layers::Dense(10, "softmax")});
// padding "valid" (no padding) or "same" (TensorFlow's rule: output = ceil(input / stride), any
// odd extra row/column going to the bottom/right).
#pragma once
#include <string>

#include "nabla/keras/layer.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/options.h"

namespace nabla::keras::layers {

struct Conv2DOptions {
  nn::Size2 strides = 1;
  std::string padding = "valid";
  std::string activation = "";
  bool use_bias = true;
  nn::Size2 dilation_rate = 1;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  TensorShape input_shape = {};  // (height, width, channels)
  std::string name = "";
};
class Conv2DImpl : public Layer {
 public:
  Conv2DImpl(int64_t filters, nn::Size2 kernel_size, const Conv2DOptions& options = {});
  void build(const TensorShape& in) override;
  TensorShape compute_output_shape(const TensorShape& in) override;
  Flow call_flow(const std::vector<Flow>& in) override;
  Flow call_flow_logits(const std::vector<Flow>& in) override;
  /// This conv, its ReLU and a max pool with `window` as one conv2d_relu_max_pool2d (nabla::ops):
  /// each image's conv output is pooled while in cache and the backward pass visits only the
  /// pool's winners. Only where the conv needs no separate padding op (pads_inside_conv()).
  Flow call_flow_relu_max_pool(const std::vector<Flow>& in, const Pool2dOptions& window);
  /// True when the conv op itself applies this layer's padding ("valid", or "same" that pads
  /// symmetrically), so that call_flow_relu_max_pool applies.
  bool pads_inside_conv() const;
  std::string final_activation() const override { return options.activation; }
  Tensor to_keras_layout(size_t i, const Tensor& w) const override;
  Tensor from_keras_layout(size_t i, const Tensor& w) const override;

  int64_t filters;
  nn::Size2 kernel_size;
  Conv2DOptions options;
  nn::Conv2d conv{nullptr};  // created by build()

 private:
  Tensor conv_nchw(const Tensor& x);
  /// The input flow as a contiguous NCHW tensor (checks that it is 4-d, naming the layer).
  Tensor nchw_input(const std::vector<Flow>& in) const;
};
class Conv2D : public LayerHolder<Conv2DImpl> {
 public:
  using LayerHolder::LayerHolder;
  Conv2D(int64_t filters, nn::Size2 kernel_size, const Conv2DOptions& options = {})
      : LayerHolder(std::make_shared<Conv2DImpl>(filters, kernel_size, options)) {}
};

struct Pooling2DOptions {
  nn::Size2 strides = 0;  // 0: pool_size
  std::string padding = "valid";
  TensorShape input_shape = {};
  std::string name = "";
};
/// Max or average pooling (`max`), shared by MaxPooling2D and AveragePooling2D.
class Pooling2DImpl : public Layer {
 public:
  Pooling2DImpl(bool max, nn::Size2 pool_size, const Pooling2DOptions& options);
  TensorShape compute_output_shape(const TensorShape& in) override;
  Flow call_flow(const std::vector<Flow>& in) override;
  /// relu(x) then this pool, as one relu_max_pool2d where the window needs no padding (a max pool
  /// commutes with the monotone ReLU): what Sequential runs for Conv2D(activation="relu") followed
  /// by MaxPooling2D, so that the ReLU output is never stored and compiled graphs fuse the conv,
  /// ReLU and pool (as for nn::Sequential's Conv2d -> ReLU -> MaxPool2d).
  Flow call_flow_after_relu(const std::vector<Flow>& in);
  /// The pooling window as the pool ops take it (padding aside).
  Pool2dOptions window() const;
  bool max;
  nn::Size2 pool_size;
  Pooling2DOptions options;

 private:
  Flow pool_flow(const std::vector<Flow>& in, bool relu_first);
};
class MaxPooling2D : public LayerHolder<Pooling2DImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit MaxPooling2D(nn::Size2 pool_size = 2, const Pooling2DOptions& options = {})
      : LayerHolder(std::make_shared<Pooling2DImpl>(true, pool_size, options)) {}
};
/// Averages over the window; with "same" padding the padded cells do not count (as in Keras).
class AveragePooling2D : public LayerHolder<Pooling2DImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit AveragePooling2D(nn::Size2 pool_size = 2, const Pooling2DOptions& options = {})
      : LayerHolder(std::make_shared<Pooling2DImpl>(false, pool_size, options)) {}
};

struct GlobalPoolingOptions {
  bool keepdims = false;
  TensorShape input_shape = {};
  std::string name = "";
};
/// (None, H, W, C) -> (None, C): the mean over height and width.
class GlobalAveragePooling2DImpl : public Layer {
 public:
  explicit GlobalAveragePooling2DImpl(const GlobalPoolingOptions& options = {});
  TensorShape compute_output_shape(const TensorShape& in) override;
  Flow call_flow(const std::vector<Flow>& in) override;
  GlobalPoolingOptions options;
};
class GlobalAveragePooling2D : public LayerHolder<GlobalAveragePooling2DImpl> {
 public:
  using LayerHolder::LayerHolder;
  explicit GlobalAveragePooling2D(const GlobalPoolingOptions& options = {})
      : LayerHolder(std::make_shared<GlobalAveragePooling2DImpl>(options)) {}
};

}  // namespace nabla::keras::layers
