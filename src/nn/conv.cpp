// Conv1d / Conv2d / ConvTranspose2d layers over nabla::conv2d and nabla::conv_transpose2d.
#include "nabla/nn/conv.h"

#include <cmath>
#include <sstream>

#include "nabla/creation.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"
#include "nn/repr.h"

namespace nabla::nn {
namespace {

// PyTorch's Conv reset_parameters, shared by all three layers.
void default_init(const Tensor& weight, const Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    double b = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
    init::uniform_(bias, -b, b);
  }
}

void check_channels(const char* layer, int64_t in, int64_t out, int64_t groups) {
  NABLA_CHECK(in > 0 && out > 0, layer, ": in and out channels must be positive, got in=", in, ", out=", out);
  NABLA_CHECK(groups > 0 && in % groups == 0 && out % groups == 0, layer, ": in (", in, ") and out (", out,
              ") channels must be divisible by groups (", groups, ")");
}

// The torch _ConvNd.extra_repr tail: padding/dilation/output_padding/groups/bias when not default.
template <typename Fmt, typename Opt>
std::string conv_repr(const Opt& o, Fmt fmt, bool zero_pad, bool one_dil, bool zero_outpad,
                      const std::string& outpad) {
  std::ostringstream os;
  os << o.in << ", " << o.out << ", kernel_size=" << fmt(o.kernel) << ", stride=" << fmt(o.stride);
  if (!zero_pad) os << ", padding=" << fmt(o.padding);
  if (!one_dil) os << ", dilation=" << fmt(o.dilation);
  if (!zero_outpad) os << ", output_padding=" << outpad;
  if (o.groups != 1) os << ", groups=" << o.groups;
  if (!o.bias) os << ", bias=False";
  return os.str();
}

}  // namespace

// ---- Conv2d ----
Conv2dImpl::Conv2dImpl(const Options& o) : options(o) {
  check_channels("Conv2d", o.in, o.out, o.groups);
  reset();
}
void Conv2dImpl::reset() {
  const Options& o = options;
  weight = register_parameter("weight", empty({o.out, o.in / o.groups, o.kernel[0], o.kernel[1]}));
  bias = register_parameter("bias", o.bias ? empty({o.out}) : Tensor());
  reset_parameters();
}
void Conv2dImpl::reset_parameters() { default_init(weight, bias); }
Tensor Conv2dImpl::forward(Tensor x) {
  Conv2dOptions c;
  for (int d = 0; d < 2; ++d) {
    c.stride[d] = options.stride[d];
    c.padding[d] = options.padding[d];
    c.dilation[d] = options.dilation[d];
  }
  c.groups = options.groups;
  return F::conv2d(x, weight, bias, c);
}
std::string Conv2dImpl::extra_repr() const {
  const Options& o = options;
  return conv_repr(o, repr::tuple2, o.padding == Size2(0), o.dilation == Size2(1), true, "");
}

// ---- Conv1d ----
Conv1dImpl::Conv1dImpl(const Options& o) : options(o) {
  check_channels("Conv1d", o.in, o.out, o.groups);
  reset();
}
void Conv1dImpl::reset() {
  const Options& o = options;
  weight = register_parameter("weight", empty({o.out, o.in / o.groups, o.kernel}));
  bias = register_parameter("bias", o.bias ? empty({o.out}) : Tensor());
  reset_parameters();
}
void Conv1dImpl::reset_parameters() { default_init(weight, bias); }
Tensor Conv1dImpl::forward(Tensor x) {
  return F::conv1d(x, weight, bias, {options.stride, options.padding, options.dilation, options.groups});
}
std::string Conv1dImpl::extra_repr() const {
  const Options& o = options;
  return conv_repr(o, repr::tuple1, o.padding == 0, o.dilation == 1, true, "");
}

// ---- ConvTranspose2d ----
ConvTranspose2dImpl::ConvTranspose2dImpl(const Options& o) : options(o) {
  check_channels("ConvTranspose2d", o.in, o.out, o.groups);
  reset();
}
void ConvTranspose2dImpl::reset() {
  const Options& o = options;
  weight = register_parameter("weight", empty({o.in, o.out / o.groups, o.kernel[0], o.kernel[1]}));
  bias = register_parameter("bias", o.bias ? empty({o.out}) : Tensor());
  reset_parameters();
}
void ConvTranspose2dImpl::reset_parameters() { default_init(weight, bias); }
Tensor ConvTranspose2dImpl::forward(Tensor x) {
  ConvTranspose2dOptions c;
  for (int d = 0; d < 2; ++d) {
    c.stride[d] = options.stride[d];
    c.padding[d] = options.padding[d];
    c.output_padding[d] = options.output_padding[d];
    c.dilation[d] = options.dilation[d];
  }
  c.groups = options.groups;
  return F::conv_transpose2d(x, weight, bias, c);
}
std::string ConvTranspose2dImpl::extra_repr() const {
  const Options& o = options;
  return conv_repr(o, repr::tuple2, o.padding == Size2(0), o.dilation == Size2(1),
                   o.output_padding == Size2(0), repr::tuple2(o.output_padding));
}

}  // namespace nabla::nn
