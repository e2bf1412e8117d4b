// Pooling layers over nabla::max_pool2d / avg_pool2d / adaptive_avg_pool2d.
#include "nabla/nn/pooling.h"

#include "nabla/nn/conv.h"
#include "nabla/nn/functional.h"
#include "nn/repr.h"

namespace nabla::nn {
namespace {

Pool2dOptions pool_options(const Size2& k, const Size2& s, const Size2& p) {
  Pool2dOptions o;
  for (int d = 0; d < 2; ++d) {
    o.kernel[d] = k[d];
    o.stride[d] = s[d] == 0 ? k[d] : s[d];
    o.padding[d] = p[d];
  }
  return o;
}
Pool2dOptions pool_options(const MaxPool2dImpl::Options& m) {
  Pool2dOptions o = pool_options(m.kernel, m.stride, m.padding);
  o.dilation[0] = m.dilation[0];
  o.dilation[1] = m.dilation[1];
  o.ceil_mode = m.ceil_mode;
  return o;
}
Pool2dOptions pool_options(const AvgPool2dImpl::Options& m) {
  Pool2dOptions o = pool_options(m.kernel, m.stride, m.padding);
  o.ceil_mode = m.ceil_mode;
  o.count_include_pad = m.count_include_pad;
  o.divisor_override = m.divisor_override;
  return o;
}
const char* py_bool(bool b) { return b ? "True" : "False"; }
// PyTorch prints what it was given; we print a number when both sides agree, else a tuple.
std::string size_repr(const Size2& s) { return s[0] == s[1] ? std::to_string(s[0]) : repr::tuple2(s); }
Size2 resolved_stride(const Size2& k, const Size2& s) {
  return {s[0] == 0 ? k[0] : s[0], s[1] == 0 ? k[1] : s[1]};
}

}  // namespace

Tensor MaxPool2dImpl::forward(Tensor x) { return F::max_pool2d(x, pool_options(options)); }
Tensor MaxPool2dImpl::forward_relu(const Tensor& x) { return relu_max_pool2d(x, pool_options(options)); }
Tensor MaxPool2dImpl::forward_conv_relu(Conv2dImpl& conv, const Tensor& x) {
  return conv.forward_relu_max_pool(x, pool_options(options));
}
std::pair<Tensor, Tensor> MaxPool2dImpl::forward_with_indices(const Tensor& x) {
  return F::max_pool2d_with_indices(x, pool_options(options));
}

Tensor MaxUnpool2dImpl::forward(const Tensor& x, const Tensor& indices, std::optional<Size2> output_size) {
  MaxUnpool2dOptions o;
  for (int d = 0; d < 2; ++d) {
    o.kernel[d] = options.kernel[d];
    o.stride[d] = options.stride[d];
    o.padding[d] = options.padding[d];
    o.output_size[d] = output_size ? (*output_size)[d] : 0;
  }
  return F::max_unpool2d(x, indices, o);
}
std::string MaxUnpool2dImpl::extra_repr() const {
  return "kernel_size=" + repr::tuple2(options.kernel) +
         ", stride=" + repr::tuple2(resolved_stride(options.kernel, options.stride)) +
         ", padding=" + repr::tuple2(options.padding);
}
std::string MaxPool2dImpl::extra_repr() const {
  return "kernel_size=" + size_repr(options.kernel) +
         ", stride=" + size_repr(resolved_stride(options.kernel, options.stride)) +
         ", padding=" + size_repr(options.padding) + ", dilation=" + size_repr(options.dilation) +
         ", ceil_mode=" + py_bool(options.ceil_mode);
}

Tensor AvgPool2dImpl::forward(Tensor x) { return F::avg_pool2d(x, pool_options(options)); }
std::string AvgPool2dImpl::extra_repr() const {
  return "kernel_size=" + size_repr(options.kernel) +
         ", stride=" + size_repr(resolved_stride(options.kernel, options.stride)) +
         ", padding=" + size_repr(options.padding);
}

Tensor AdaptiveAvgPool2dImpl::forward(Tensor x) {
  return F::adaptive_avg_pool2d(x, output_size[0], output_size[1]);
}
std::string AdaptiveAvgPool2dImpl::extra_repr() const { return "output_size=" + size_repr(output_size); }

}  // namespace nabla::nn
