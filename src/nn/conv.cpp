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

// The torch _ConvNd.extra_repr tail: padding/dilation/output_padding/groups/bias/padding_mode when
// not default. `pad` is the padding as PyTorch prints it ("" when zero).
template <typename Fmt, typename Opt>
std::string conv_repr(const Opt& o, Fmt fmt, const std::string& pad, bool one_dil, bool zero_outpad,
                      const std::string& outpad, const std::string& padding_mode = "zeros") {
  std::ostringstream os;
  os << o.in << ", " << o.out << ", kernel_size=" << fmt(o.kernel) << ", stride=" << fmt(o.stride);
  if (!pad.empty()) os << ", padding=" << pad;
  if (!one_dil) os << ", dilation=" << fmt(o.dilation);
  if (!zero_outpad) os << ", output_padding=" << outpad;
  if (o.groups != 1) os << ", groups=" << o.groups;
  if (!o.bias) os << ", bias=False";
  if (padding_mode != "zeros") os << ", padding_mode=" << padding_mode;
  return os.str();
}

template <typename Fmt>
std::string padding_repr(const ConvPadding& p, Fmt fmt) {
  if (p.kind == ConvPadding::kSame) return "same";
  if (p.kind == ConvPadding::kValid) return "valid";
  return p == Size2(0) ? "" : fmt(p);
}

void check_padding(const char* layer, const ConvPadding& p, const std::string& mode, const int64_t* stride,
                   int dims) {
  NABLA_CHECK(mode == "zeros" || mode == "reflect" || mode == "replicate" || mode == "circular", layer,
              ": padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got '", mode, "'");
  for (int d = 0; d < dims; ++d) {
    NABLA_CHECK(p[d] >= 0, layer, ": padding must be non-negative, got ", p[d]);
    NABLA_CHECK(p.kind != ConvPadding::kSame || stride[d] == 1, layer,
                ": padding='same' is not supported for strided convolutions (stride ", stride[d], ")");
  }
}

// Per spatial dim (lo, hi) padding: explicit p each side; "valid" none; "same" dilation * (k - 1)
// in total, the odd one at the end (as PyTorch).
void resolve_padding(const ConvPadding& p, const int64_t* kernel, const int64_t* dilation, int dims,
                     int64_t* lo, int64_t* hi) {
  for (int d = 0; d < dims; ++d) {
    if (p.kind == ConvPadding::kSame) {
      int64_t total = dilation[d] * (kernel[d] - 1);
      lo[d] = total / 2;
      hi[d] = total - lo[d];
    } else {
      lo[d] = hi[d] = p.kind == ConvPadding::kValid ? 0 : p[d];
    }
  }
}

// Pads x's last `dims` dims by (lo, hi) with `mode` when the conv op's own symmetric zero padding
// cannot do it; returns the padding left for the op (0 when x was padded here).
Tensor pad_input(const Tensor& x, const std::string& mode, const int64_t* lo, const int64_t* hi, int dims,
                 int64_t* op_pad) {
  bool symmetric_zeros = mode == "zeros";
  for (int d = 0; d < dims; ++d) symmetric_zeros = symmetric_zeros && lo[d] == hi[d];
  if (symmetric_zeros) {
    for (int d = 0; d < dims; ++d) op_pad[d] = lo[d];
    return x;
  }
  std::vector<int64_t> pads;
  for (int d = dims - 1; d >= 0; --d) {
    pads.push_back(lo[d]);
    pads.push_back(hi[d]);
    op_pad[d] = 0;
  }
  return F::pad(x, pads, mode == "zeros" ? std::string("constant") : mode);
}

}  // namespace

ConvPadding::Kind ConvPadding::parse(const char* name) {
  std::string n = name ? name : "";
  NABLA_CHECK(n == "same" || n == "valid", "Conv: padding must be a size, \"same\" or \"valid\", got \"", n,
              "\"");
  return n == "same" ? kSame : kValid;
}

// ---- Conv2d ----
Conv2dImpl::Conv2dImpl(const Options& o) : options(o) {
  check_channels("Conv2d", o.in, o.out, o.groups);
  check_padding("Conv2d", o.padding, o.padding_mode, o.stride.v, 2);
  reset();
}
void Conv2dImpl::reset() {
  const Options& o = options;
  weight = register_parameter("weight", empty({o.out, o.in / o.groups, o.kernel[0], o.kernel[1]}));
  bias = register_parameter("bias", o.bias ? empty({o.out}) : Tensor());
  reset_parameters();
}
void Conv2dImpl::reset_parameters() { default_init(weight, bias); }
namespace {
// Conv2d's forward; with `pool`, ReLU and that max pool fused into it.
Tensor conv2d_forward(const Conv2dImpl& m, Tensor x, const Pool2dOptions* pool) {
  const Conv2dImpl::Options& o = m.options;
  Conv2dOptions c;
  int64_t lo[2], hi[2];
  resolve_padding(o.padding, o.kernel.v, o.dilation.v, 2, lo, hi);
  for (int d = 0; d < 2; ++d) {
    c.stride[d] = o.stride[d];
    c.dilation[d] = o.dilation[d];
  }
  c.groups = o.groups;
  NABLA_CHECK(x.dim() == 3 || x.dim() == 4,
              "Conv2d: expected a 4-d input [N, C, H, W] (or 3-d [C, H, W]), got shape ", x.shape());
  x = pad_input(x, o.padding_mode, lo, hi, 2, c.padding);
  return pool ? conv2d_relu_max_pool2d(x, m.weight, m.bias, c, *pool) : F::conv2d(x, m.weight, m.bias, c);
}
}  // namespace

Tensor Conv2dImpl::forward(Tensor x) { return conv2d_forward(*this, std::move(x), nullptr); }
Tensor Conv2dImpl::forward_relu_max_pool(Tensor x, const Pool2dOptions& pool) {
  return conv2d_forward(*this, std::move(x), &pool);
}
std::string Conv2dImpl::extra_repr() const {
  const Options& o = options;
  return conv_repr(o, repr::tuple2, padding_repr(o.padding, repr::tuple2), o.dilation == Size2(1), true, "",
                   o.padding_mode);
}

// ---- Conv1d ----
Conv1dImpl::Conv1dImpl(const Options& o) : options(o) {
  check_channels("Conv1d", o.in, o.out, o.groups);
  check_padding("Conv1d", o.padding, o.padding_mode, &o.stride, 1);
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
  int64_t lo[1], hi[1], op_pad[1];
  resolve_padding(options.padding, &options.kernel, &options.dilation, 1, lo, hi);
  NABLA_CHECK(x.dim() == 2 || x.dim() == 3,
              "Conv1d: expected a 3-d input [N, C, L] (or 2-d [C, L]), got shape ", x.shape());
  x = pad_input(x, options.padding_mode, lo, hi, 1, op_pad);
  return F::conv1d(x, weight, bias, {options.stride, op_pad[0], options.dilation, options.groups});
}
std::string Conv1dImpl::extra_repr() const {
  const Options& o = options;
  return conv_repr(o, repr::tuple1,
                   padding_repr(o.padding, [](const Size2& p) { return repr::tuple1(p[0]); }),
                   o.dilation == 1, true, "", o.padding_mode);
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
  return conv_repr(o, repr::tuple2, o.padding == Size2(0) ? "" : repr::tuple2(o.padding),
                   o.dilation == Size2(1), o.output_padding == Size2(0), repr::tuple2(o.output_padding));
}

}  // namespace nabla::nn
