// Convolution layers (NCHW / NCL): Conv1d, Conv2d, ConvTranspose2d. Default init as PyTorch:
// kaiming_uniform_(a = sqrt(5)) weights, uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias.
//   nabla::nn::Conv2d conv(1, 32, 3);                                   // in, out, kernel
//   nabla::nn::Conv2d conv2({.in = 32, .out = 64, .kernel = 3, .padding = 1});
//   nabla::nn::Conv2d same({.in = 3, .out = 8, .kernel = 4, .padding = "same",
//                           .padding_mode = "reflect"});             // H, W unchanged
//   nabla::nn::ConvTranspose2d up({.in = 64, .out = 32, .kernel = 3, .stride = 2, .padding = 1,
//                                  .output_padding = 1});              // doubles H and W
#pragma once
#include <string>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla {
struct Pool2dOptions;  // nabla/ops.h
}  // namespace nabla

namespace nabla::nn {

/// Weight [out, in/groups, kH, kW], bias [out].
class Conv2dImpl : public Cloneable<Conv2dImpl> {
 public:
  struct Options {
    int64_t in = 0;
    int64_t out = 0;
    Size2 kernel = 1;
    Size2 stride = 1;
    ConvPadding padding = 0;  // or "same" / "valid"
    Size2 dilation = 1;
    int64_t groups = 1;
    bool bias = true;
    /// How padding is filled: "zeros", "reflect", "replicate" or "circular" (see F::pad).
    std::string padding_mode = "zeros";
  };
  Conv2dImpl(int64_t in, int64_t out, Size2 kernel, Size2 stride = 1, Size2 padding = 0)
      : Conv2dImpl(Options{in, out, kernel, stride, padding}) {}
  explicit Conv2dImpl(const Options& options);
  void reset();
  void reset_parameters();
  Tensor forward(Tensor x) override;
  /// max_pool2d(relu(forward(x)), pool) as one fused op (nabla::conv2d_relu_max_pool2d: a
  /// quarter of the conv's backward work for a 2x2 pool); nn::Sequential uses it for Conv2d ->
  /// ReLU -> MaxPool2d.
  Tensor forward_relu_max_pool(Tensor x, const Pool2dOptions& pool);
  std::string extra_repr() const override;

  Options options;
  Tensor weight, bias;
};
NABLA_MODULE(Conv2d);

/// Weight [out, in/groups, k], bias [out]; input [N, C, L] or [C, L].
class Conv1dImpl : public Cloneable<Conv1dImpl> {
 public:
  struct Options {
    int64_t in = 0;
    int64_t out = 0;
    int64_t kernel = 1;
    int64_t stride = 1;
    ConvPadding padding = 0;  // or "same" / "valid"
    int64_t dilation = 1;
    int64_t groups = 1;
    bool bias = true;
    /// How padding is filled: "zeros", "reflect", "replicate" or "circular" (see F::pad).
    std::string padding_mode = "zeros";
  };
  Conv1dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0)
      : Conv1dImpl(Options{in, out, kernel, stride, padding}) {}
  explicit Conv1dImpl(const Options& options);
  void reset();
  void reset_parameters();
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;

  Options options;
  Tensor weight, bias;
};
NABLA_MODULE(Conv1d);

/// Weight [in, out/groups, kH, kW] (PyTorch's layout), bias [out].
class ConvTranspose2dImpl : public Cloneable<ConvTranspose2dImpl> {
 public:
  struct Options {
    int64_t in = 0;
    int64_t out = 0;
    Size2 kernel = 1;
    Size2 stride = 1;
    Size2 padding = 0;
    Size2 output_padding = 0;
    int64_t groups = 1;
    bool bias = true;
    Size2 dilation = 1;
  };
  ConvTranspose2dImpl(int64_t in, int64_t out, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
                      Size2 output_padding = 0)
      : ConvTranspose2dImpl(Options{in, out, kernel, stride, padding, output_padding}) {}
  explicit ConvTranspose2dImpl(const Options& options);
  void reset();
  void reset_parameters();
  Tensor forward(Tensor x) override;
  std::string extra_repr() const override;

  Options options;
  Tensor weight, bias;
};
NABLA_MODULE(ConvTranspose2d);

}  // namespace nabla::nn
