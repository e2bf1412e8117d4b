// Pooling layers (NCHW): MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, MaxUnpool2d, with PyTorch's options.
//   nabla::nn::MaxPool2d pool(2);                          // kernel 2, stride 2
//   nabla::nn::MaxPool2d ceil({.kernel = 3, .stride = 2, .dilation = 2, .ceil_mode = true});
//   nabla::nn::AvgPool2d avg({.kernel = 3, .stride = 1, .padding = 1, .count_include_pad = false});
//   nabla::nn::AdaptiveAvgPool2d gap(1);                   // [N, C, H, W] -> [N, C, 1, 1]
//   auto [y, idx] = pool->forward_with_indices(x);         // PyTorch's return_indices=True
//   nabla::nn::MaxUnpool2d unpool(2);  Tensor back = unpool(y, idx);
#pragma once
#include <optional>
#include <utility>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

class Conv2dImpl;  // nabla/nn/conv.h

class MaxPool2dImpl : public Cloneable<MaxPool2dImpl> {
 public:
  struct Options {
    Size2 kernel = 2;
    Size2 stride = 0;  // 0 = same as kernel
    Size2 padding = 0;
    Size2 dilation = 1;
    bool ceil_mode = false;  // round the output size up (keep a last partial window)
  };
  MaxPool2dImpl(Size2 kernel, Size2 stride = 0, Size2 padding = 0)
      : MaxPool2dImpl(Options{kernel, stride, padding}) {}
  explicit MaxPool2dImpl(const Options& o) : options(o) {}
  Tensor forward(Tensor x) override;
  /// forward(relu(x)) in one fused op (nabla::relu_max_pool2d); Sequential uses it for a ReLU
  /// followed by this layer.
  Tensor forward_relu(const Tensor& x);
  /// forward(relu(conv(x))) in one fused op (nabla::conv2d_relu_max_pool2d); Sequential uses it
  /// for Conv2d -> ReLU -> this layer.
  Tensor forward_conv_relu(Conv2dImpl& conv, const Tensor& x);
  /// The pooled values and the int64 index (h * W + w in each input plane) of each maximum, for
  /// MaxUnpool2d (PyTorch's return_indices=True; libtorch's forward_with_indices).
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& x);
  std::string extra_repr() const override;
  Options options;
};
NABLA_MODULE(MaxPool2d);

/// Puts MaxPool2d's maxima back where they came from, zeros elsewhere: forward(x, indices), or
/// forward(x, indices, {H, W}) when the pooled input's size is not the default
/// (in - 1) * stride - 2 * padding + kernel (an odd size pooled by 2).
class MaxUnpool2dImpl : public Cloneable<MaxUnpool2dImpl> {
 public:
  struct Options {
    Size2 kernel = 2;
    Size2 stride = 0;  // 0 = same as kernel
    Size2 padding = 0;
  };
  MaxUnpool2dImpl(Size2 kernel, Size2 stride = 0, Size2 padding = 0)
      : MaxUnpool2dImpl(Options{kernel, stride, padding}) {}
  explicit MaxUnpool2dImpl(const Options& o) : options(o) {}
  using Module::forward;
  Tensor forward(const Tensor& x, const Tensor& indices, std::optional<Size2> output_size = std::nullopt);
  std::string extra_repr() const override;
  Options options;
};
NABLA_MODULE(MaxUnpool2d);

class AvgPool2dImpl : public Cloneable<AvgPool2dImpl> {
 public:
  struct Options {
    Size2 kernel = 2;
    Size2 stride = 0;  // 0 = same as kernel
    Size2 padding = 0;
    bool ceil_mode = false;         // round the output size up (keep a last partial window)
    bool count_include_pad = true;  // padded zeros count in the divisor
    int64_t divisor_override = 0;   // divide every window sum by this (0 = none)
  };
  AvgPool2dImpl(Size2 kernel, Size2 stride = 0, Size2 padding = 0)
      : AvgPool2dImpl(Options{kernel, stride, padding}) {}
  explicit AvgPool2dImpl(const Options& o) : options(o) {}
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;
  Options options;
};
NABLA_MODULE(AvgPool2d);

class AdaptiveAvgPool2dImpl : public Cloneable<AdaptiveAvgPool2dImpl> {
 public:
  explicit AdaptiveAvgPool2dImpl(Size2 output_size) : output_size(output_size) {}
  AdaptiveAvgPool2dImpl(int64_t out_h, int64_t out_w) : output_size(out_h, out_w) {}
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;
  Size2 output_size;
};
NABLA_MODULE(AdaptiveAvgPool2d);

}  // namespace nabla::nn
