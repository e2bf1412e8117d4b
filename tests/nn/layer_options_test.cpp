// Layer options beyond PyTorch's defaults (pooling ceil_mode, dilation, count_include_pad,
// divisor_override) vs PyTorch: forward values and input gradients
// (fixtures: tests/fixtures/nn/gen_layer_options.py), plus the errors for invalid combinations.
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/io/npy.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"
#include "support/expect_close.h"
#include "support/fixture_suite.h"

namespace {
using nabla::Tensor;
namespace nn = nabla::nn;

Tensor load(const std::string& c, const std::string& name) {
  return nabla::testing::fixture_in("nn/layer_options", c, name);
}
bool has(const std::string& c, const std::string& name) {
  return nabla::testing::fixture_in_exists("nn/layer_options", c, name);
}

using nabla::testing::expect_close;

// Loads the case's weights (if any) into `layer`, runs it on x0, compares y, gx0, gw and gb.
template <typename H>
void check(const std::string& c, H layer) {
  SCOPED_TRACE(c);
  auto params = layer->named_parameters();
  {
    nabla::NoGradGuard g;
    if (auto* w = params.find("weight")) w->copy_(load(c, "w"));
    if (auto* b = params.find("bias")) b->copy_(load(c, "b"));
  }
  Tensor x = load(c, "x0");
  x.set_requires_grad(true);
  Tensor y = layer(x);
  expect_close(y, load(c, "y"), c + ": y");
  (y * load(c, "gy")).sum().backward();
  expect_close(x.grad(), load(c, "gx0"), c + ": gx");
  if (has(c, "gw")) expect_close(params.at("weight").grad(), load(c, "gw"), c + ": gw");
  if (has(c, "gb")) expect_close(params.at("bias").grad(), load(c, "gb"), c + ": gb");
}

template <typename F>
void expect_error_at(int line, F&& fn, std::initializer_list<const char*> parts) {
  SCOPED_TRACE("expect_error at line " + std::to_string(line));
  try {
    fn();
    ADD_FAILURE() << "no nabla::Error";
  } catch (const nabla::Error& e) {
    std::string msg = e.what();
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}
#define expect_error(...) expect_error_at(__LINE__, __VA_ARGS__)
}  // namespace

TEST(LayerOptions, MaxPoolCeilModeAndDilation) {
  check("max_ceil", nn::MaxPool2d({.kernel = 3, .stride = 2, .ceil_mode = true}));
  check("max_ceil_pad", nn::MaxPool2d({.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true}));
  check("max_ceil_rule", nn::MaxPool2d({.kernel = 2, .stride = 2, .padding = 1, .ceil_mode = true}));
  check("max_ceil_3d", nn::MaxPool2d({.kernel = 2, .ceil_mode = true}));
  check("max_dilation", nn::MaxPool2d({.kernel = 3, .stride = 2, .padding = 1, .dilation = 2}));
  check("max_dilation_ceil",
        nn::MaxPool2d(
            {.kernel = {2, 3}, .stride = {2, 1}, .padding = {1, 1}, .dilation = {2, 1}, .ceil_mode = true}));
}

TEST(LayerOptions, AvgPoolCeilModeCountIncludePadDivisorOverride) {
  check("avg_ceil", nn::AvgPool2d({.kernel = 3, .stride = 2, .ceil_mode = true}));
  check("avg_ceil_pad", nn::AvgPool2d({.kernel = 2, .stride = 2, .padding = 1, .ceil_mode = true}));
  check(
      "avg_ceil_pad_nocount",
      nn::AvgPool2d({.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false}));
  check("avg_nocount", nn::AvgPool2d({.kernel = 3, .stride = 1, .padding = 1, .count_include_pad = false}));
  check("avg_divisor", nn::AvgPool2d({.kernel = 2, .stride = 1, .padding = 1, .divisor_override = 3}));
}

TEST(LayerOptions, PoolReprShowsTheOptions) {
  std::ostringstream s;
  s << *nn::MaxPool2d({.kernel = 3, .stride = 2, .padding = 1, .dilation = 2, .ceil_mode = true});
  EXPECT_EQ(s.str(), "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)");
}

TEST(LayerOptions, PoolInvalidCombinations) {
  Tensor x = nabla::randn({1, 1, 5, 5});
  nabla::Pool2dOptions o;
  o.kernel[0] = o.kernel[1] = 2;
  o.divisor_override = 2;
  expect_error([&] { nabla::max_pool2d(x, o); }, {"max_pool2d", "divisor_override"});
  o.divisor_override = 0;
  o.dilation[0] = 2;
  expect_error([&] { nabla::avg_pool2d(x, o); }, {"avg_pool2d", "dilation"});
  expect_error([&] { nn::MaxPool2d({.kernel = 2, .dilation = 0, .ceil_mode = true})(x); },
               {"max_pool2d", "dilation must be positive"});
  expect_error([&] { nn::MaxPool2d({.kernel = 2, .padding = 2, .ceil_mode = true})(x); },
               {"max_pool2d", "at most half of the kernel size"});
  expect_error([&] { nn::MaxPool2d({.kernel = 3, .dilation = 3})(x); }, {"max_pool2d", "too small"});
  expect_error(
      [&] {
        nn::AvgPool2d({.kernel = 2, .ceil_mode = true})(nabla::randn({5, 5}));
      },
      {"avg_pool2d", "4-d input"});
  expect_error(
      [&] {
        nn::AvgPool2d({.kernel = 2, .ceil_mode = true})(nabla::ones({1, 1, 4, 4}, nabla::kInt64));
      },
      {"avg_pool2d", "floating-point"});
}

TEST(LayerOptions, DefaultPoolOptionsKeepThePlainOps) {
  // ceil_mode on a size where it changes nothing gives the plain op's result exactly.
  Tensor x = nabla::randn({2, 3, 8, 8});
  EXPECT_TRUE(nabla::equal(nn::MaxPool2d({.kernel = 2, .ceil_mode = true})(x), nn::MaxPool2d(2)(x)));
  EXPECT_TRUE(
      nabla::allclose(nn::AvgPool2d({.kernel = 2, .ceil_mode = true})(x), nn::AvgPool2d(2)(x), 1e-6, 1e-6));
}

TEST(LayerOptions, ConvPaddingModes) {
  check("conv2d_reflect",
        nn::Conv2d({.in = 2, .out = 3, .kernel = 3, .padding = {1, 2}, .padding_mode = "reflect"}));
  check("conv2d_replicate",
        nn::Conv2d(
            {.in = 2, .out = 3, .kernel = {2, 3}, .stride = 2, .padding = 1, .padding_mode = "replicate"}));
  check("conv2d_circular", nn::Conv2d({.in = 2,
                                       .out = 2,
                                       .kernel = 3,
                                       .padding = {2, 1},
                                       .dilation = {2, 1},
                                       .padding_mode = "circular"}));
  check("conv1d_circular",
        nn::Conv1d({.in = 2, .out = 3, .kernel = 3, .padding = 2, .padding_mode = "circular"}));
  check("conv1d_reflect_2d_input",
        nn::Conv1d({.in = 2, .out = 2, .kernel = 3, .padding = 1, .padding_mode = "reflect"}));
}

TEST(LayerOptions, ConvPaddingSameAndValid) {
  check("conv2d_same_even",
        nn::Conv2d(
            {.in = 2, .out = 3, .kernel = {4, 3}, .padding = "same", .dilation = {1, 2}, .bias = false}));
  check("conv2d_same_reflect",
        nn::Conv2d({.in = 2, .out = 2, .kernel = 4, .padding = "same", .padding_mode = "reflect"}));
  check("conv2d_valid", nn::Conv2d({.in = 2, .out = 3, .kernel = 3, .padding = "valid"}));
  check("conv1d_same",
        nn::Conv1d(
            {.in = 2, .out = 3, .kernel = 4, .padding = "same", .dilation = 3, .padding_mode = "replicate"}));
  std::ostringstream s;
  s << *nn::Conv2d({.in = 2, .out = 2, .kernel = 4, .padding = "same", .padding_mode = "reflect"});
  EXPECT_EQ(s.str(), "Conv2d(2, 2, kernel_size=(4, 4), stride=(1, 1), padding=same, padding_mode=reflect)");
}

TEST(LayerOptions, PadModes) {
  struct Case {
    const char* name;
    std::vector<int64_t> pads;
    const char* mode;
  };
  for (const Case& c :
       {Case{"pad_reflect", {2, 1, 1, 3}, "reflect"}, Case{"pad_replicate", {3, 0, 2, 2}, "replicate"},
        Case{"pad_circular", {1, 4, 2, 0}, "circular"}, Case{"pad_reflect_1d", {3, 2}, "reflect"}}) {
    SCOPED_TRACE(c.name);
    Tensor x = load(c.name, "x0");
    x.set_requires_grad(true);
    Tensor y = nabla::F::pad(x, c.pads, c.mode);
    expect_close(y, load(c.name, "y"), std::string(c.name) + ": y", 0);
    (y * load(c.name, "gy")).sum().backward();
    expect_close(x.grad(), load(c.name, "gx0"), std::string(c.name) + ": gx");
  }
}

TEST(LayerOptions, ConvAndPadInvalidCombinations) {
  expect_error([] { nn::Conv2d({.in = 1, .out = 1, .kernel = 3, .padding_mode = "mirror"}); },
               {"Conv2d", "padding_mode", "'mirror'"});
  expect_error([] { nn::Conv2d({.in = 1, .out = 1, .kernel = 3, .stride = 2, .padding = "same"}); },
               {"Conv2d", "padding='same'", "strided"});
  expect_error([] { nn::Conv1d({.in = 1, .out = 1, .kernel = 3, .stride = 2, .padding = "same"}); },
               {"Conv1d", "padding='same'"});
  expect_error([] { nn::Conv2d({.in = 1, .out = 1, .kernel = 3, .padding = "full"}); },
               {"padding", "\"full\""});
  Tensor x = nabla::randn({1, 2, 3, 4});
  expect_error([&] { nabla::F::pad(x, {4, 0}, "reflect"); }, {"pad", "reflect", "size 4"});
  expect_error([&] { nabla::F::pad(x, {0, 0, 4, 0}, "circular"); }, {"pad", "circular", "size 3"});
  expect_error([&] { nabla::F::pad(x, {1, 1}, "wrap"); }, {"pad", "unknown mode 'wrap'"});
  expect_error([&] { nabla::F::pad(x, {1, 1}, "reflect", 2.0); }, {"pad", "constant"});
  expect_error([&] { nabla::F::pad(x, {1, 1, 1}, "replicate"); }, {"pad", "even number"});
  // A reflect-padded conv on an input too small for its padding names the problem.
  nn::Conv2d conv({.in = 2, .out = 1, .kernel = 3, .padding = 3, .padding_mode = "reflect"});
  expect_error([&] { conv(x); }, {"reflect", "padding < the dim's size"});
}

TEST(LayerOptions, EmbeddingMaxNorm) {
  struct Case {
    const char* name;
    nn::EmbeddingImpl::Options options;
  };
  for (const Case& c :
       {Case{"embedding_max_norm", {.num = 10, .dim = 4, .max_norm = 1.5}},
        Case{"embedding_max_norm_l1_pad",
             {.num = 10, .dim = 5, .padding_idx = 3, .max_norm = 2.0, .norm_type = 1.0}},
        Case{"embedding_max_norm_inf",
             {.num = 10, .dim = 3, .max_norm = 1.0, .norm_type = std::numeric_limits<double>::infinity()}}}) {
    SCOPED_TRACE(c.name);
    nn::Embedding emb(c.options);
    {
      nabla::NoGradGuard g;
      emb->weight.copy_(load(c.name, "w"));
    }
    Tensor y = emb(load(c.name, "x0"));
    expect_close(y, load(c.name, "y"), std::string(c.name) + ": y");
    expect_close(emb->weight.detach(), load(c.name, "w_after"), std::string(c.name) + ": renormed weight");
    (y * load(c.name, "gy")).sum().backward();
    expect_close(emb->weight.grad(), load(c.name, "gw"), std::string(c.name) + ": gw");
  }
  std::ostringstream s;
  s << *nn::Embedding({.num = 10, .dim = 3, .max_norm = 1.0, .norm_type = 1.0});
  EXPECT_EQ(s.str(), "Embedding(10, 3, max_norm=1.0, norm_type=1.0)");
  expect_error([] { nn::Embedding({.num = 10, .dim = 3, .max_norm = -1.0}); }, {"Embedding", "max_norm"});
  expect_error([] { nn::Embedding({.num = 10, .dim = 3, .max_norm = 1.0, .norm_type = 0.0}); },
               {"Embedding", "norm_type"});
  nn::Embedding emb({.num = 4, .dim = 2, .max_norm = 1.0});
  Tensor before = emb->weight.detach().clone();
  expect_error(
      [&] {
        emb(nabla::from_buffer(std::vector<int64_t>{1, 4}.data(), {2}, nabla::kInt64));
      },
      {"out of range"});
  EXPECT_TRUE(nabla::equal(emb->weight.detach(), before)) << "a bad index must not renorm any row";
}
