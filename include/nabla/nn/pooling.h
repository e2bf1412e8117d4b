// Pooling layers (NCHW): MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, with PyTorch's options.
//   nabla::nn::MaxPool2d pool(2);                          // kernel 2, stride 2
//   nabla::nn::MaxPool2d ceil({.kernel = 3, .stride = 2, .dilation = 2, .ceil_mode = true});
//   nabla::nn::AvgPool2d avg({.kernel = 3, .stride = 1, .padding = 1, .count_include_pad = false});
//   nabla::nn::AdaptiveAvgPool2d gap(1);                   // [N, C, H, W] -> [N, C, 1, 1]
#pragma once
#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

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
  std::string extra_repr() const override;
  Options options;
};
NABLA_MODULE(MaxPool2d);

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
