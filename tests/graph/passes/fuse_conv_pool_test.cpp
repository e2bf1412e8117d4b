// Conv + pool fusion (conv2d -> relu_max_pool2d into conv2d_relu_max_pool2d, max_pool2d_grad ->
// conv2d_weight_bias_grad into pool_grad_conv2d_weight_bias_grad): before/after dumps,
// bit-identical results across the geometries the fused kernel takes and those it hands back to
// the unfused kernels, and the pass inside jit::compile.
#include "../graph_test_util.h"
#include "nabla/jit.h"

namespace nabla::graph {
namespace {

struct Case {
  Shape x, w;
  Conv2dOptions conv;
  bool bias = true;
  DType dtype = kFloat32;
};

// Traces conv -> relu_max_pool2d, runs the graph before and after the pass, and expects the pass
// to fuse once and every output (values and the pooled indices' effect) to be bit-identical.
void expect_fused_identical(const Case& c, const Tensor& x_in = {}) {
  Tensor x = x_in.defined() ? x_in : randn(c.x, c.dtype);
  Tensor w = randn(c.w, c.dtype), b = c.bias ? randn({c.w[0]}, c.dtype) : Tensor();
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{relu_max_pool2d(conv2d(in[0], w, b, c.conv))};
      },
      {x});
  std::vector<Tensor> ref = testing::run(g, {x});
  EXPECT_EQ(fuse_conv_pool(g), 1);
  g.verify();
  EXPECT_EQ(testing::count_op(g, ops::OpId::conv2d), 0);
  EXPECT_EQ(testing::count_op(g, ops::OpId::conv2d_relu_max_pool2d), 1);
  std::vector<Tensor> got = testing::run(g, {x});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].shape(), ref[0].shape());
  EXPECT_EQ(testing::max_abs_diff(got[0], ref[0]), 0.0) << "x " << c.x << " w " << c.w;
}

TEST(ConvPoolFusion, DumpBeforeAndAfter) {
  Tensor x = randn({2, 3, 8, 8});
  Tensor w = randn({5, 3, 3, 3}), b = randn({5});
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{relu_max_pool2d(conv2d(in[0], w, b, {.padding = {1, 1}}))};
      },
      {x});
  testing::check_pass(g, fuse_conv_pool, {x},
                      "graph(%0: float32[N,3,8,8]) {\n"
                      "  %1 = param : float32[5,3,3,3]\n"
                      "  %2 = param : float32[5]\n"
                      "  %3 = conv2d(%0, %1, %2) {i=[1,1,1,1,1,1,1]} : float32[N,5,8,8]\n"
                      "  %4, %5 = relu_max_pool2d(%3) {i=[2,2,2,2]} : float32[N,5,4,4], int64[N,5,4,4]\n"
                      "  return (%4)\n}\n",
                      "graph(%0: float32[N,3,8,8]) {\n"
                      "  %1 = param : float32[5,3,3,3]\n"
                      "  %2 = param : float32[5]\n"
                      // i13 = 1: nothing reads the indices, so they shrink to uint8 window offsets.
                      "  %4, %5 = conv2d_relu_max_pool2d(%0, %1, %2) {i=[1,1,1,1,1,1,1,2,2,2,2,0,0,1]} : "
                      "float32[N,5,4,4], uint8[N,5,4,4]\n"
                      "  return (%4)\n}\n",
                      0.0);  // per image the same kernels: bit-identical
}

TEST(ConvPoolFusion, BitIdenticalWhereTheFusedKernelRuns) {
  // The seed CNN's layers, odd sizes (the pool drops the last row and column), channel counts that
  // are not multiples of the 8-channel tile, rows wider than one 16-lane slot, no bias.
  expect_fused_identical({{3, 1, 28, 28}, {32, 1, 3, 3}, {.padding = {1, 1}}});
  expect_fused_identical({{3, 32, 14, 14}, {64, 32, 3, 3}, {.padding = {1, 1}}});
  expect_fused_identical({{2, 3, 15, 15}, {12, 3, 3, 3}, {.padding = {1, 1}}});
  expect_fused_identical({{2, 4, 30, 33}, {5, 4, 5, 3}, {.padding = {2, 0}}, false});
  expect_fused_identical({{1, 2, 9, 9}, {3, 2, 3, 3}, {.dilation = {2, 2}}});
  // A strided (non-contiguous) input is read through its strides, as by the unfused conv.
  Tensor wide = randn({2, 3, 10, 20});
  expect_fused_identical({{2, 3, 10, 10}, {4, 3, 3, 3}, {.padding = {1, 1}}}, wide.narrow(3, 5, 10));
}

TEST(ConvPoolFusion, BitIdenticalWhereTheUnfusedKernelsRun) {
  expect_fused_identical({{2, 3, 12, 12}, {4, 3, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}});  // stride 2
  expect_fused_identical({{2, 3, 8, 8}, {4, 3, 1, 1}});                                           // 1x1 conv
  expect_fused_identical({{2, 4, 8, 8}, {6, 2, 3, 3}, {.padding = {1, 1}, .groups = 2}});         // groups
  expect_fused_identical({{2, 3, 8, 8}, {4, 3, 3, 3}, {.padding = {1, 1}}, true, kFloat64});      // float64
}

TEST(ConvPoolFusion, SameResultAtOneAndTwoThreads) {
  Tensor x = randn({8, 16, 14, 14}), w = randn({24, 16, 3, 3}), b = randn({24});
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{relu_max_pool2d(conv2d(in[0], w, b, {.padding = {1, 1}}))};
      },
      {x});
  ASSERT_EQ(fuse_conv_pool(g), 1);
  const int saved = get_num_threads();
  set_num_threads(1);
  Tensor one = testing::run(g, {x})[0];
  set_num_threads(2);
  Tensor two = testing::run(g, {x})[0];
  set_num_threads(saved);
  EXPECT_EQ(testing::max_abs_diff(one, two), 0.0);
}

TEST(ConvPoolFusion, NotWhenTheConvOutputIsReadElsewhere) {
  Tensor x = randn({2, 3, 8, 8}), w = randn({4, 3, 3, 3});
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        Tensor c = conv2d(in[0], w, {}, {.padding = {1, 1}});
        return std::vector<Tensor>{relu_max_pool2d(c), c};  // the conv output is an output too
      },
      {x});
  EXPECT_EQ(fuse_conv_pool(g), 0);
  Graph h = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{max_pool2d(conv2d(in[0], w, {}, {.padding = {1, 1}}))};  // no ReLU
      },
      {x});
  EXPECT_EQ(fuse_conv_pool(h), 0);
}

// The weight and bias gradients of conv -> (relu_)max_pool2d for an input that needs no gradient
// (a first layer): the graph's max_pool2d_grad feeds conv2d_weight_bias_grad alone.
// (opt by reference: GCC 12 -O3 miscompiled this call with the options struct passed by value:
// {} after {.padding = {1, 1}} arrived as padding {1, 0}.)
void expect_backward_fused_identical(const Shape& xs, const Shape& ws, const Conv2dOptions& opt, bool relu) {
  Tensor x = randn(xs), gout;
  Tensor w = randn(ws).requires_grad_(), b = randn({ws[0]}).requires_grad_();
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        w.impl()->grad.reset();
        b.impl()->grad.reset();
        Tensor c = conv2d(in[0], w, b, opt);
        Tensor y = relu ? relu_max_pool2d(c) : max_pool2d(c);
        (y * in[1]).sum().backward();
        return std::vector<Tensor>{w.grad(), b.grad()};
      },
      {x, gout = randn({xs[0], ws[0], (xs[2] + 2 * opt.padding[0] - ws[2] + 1) / 2,
                        (xs[3] + 2 * opt.padding[1] - ws[3] + 1) / 2})});
  dead_code_elimination(g);
  ASSERT_EQ(testing::count_op(g, ops::OpId::max_pool2d_grad), 1) << g.dump();
  std::vector<Tensor> ref = testing::run(g, {x, gout});
  // The backward pair, and with ReLU the forward pair (conv -> relu_max_pool2d) too.
  EXPECT_EQ(fuse_conv_pool(g), relu ? 2 : 1) << g.dump();
  g.verify();
  EXPECT_EQ(testing::count_op(g, ops::OpId::max_pool2d_grad), 0) << g.dump();
  EXPECT_EQ(testing::count_op(g, ops::OpId::pool_grad_conv2d_weight_bias_grad), 1) << g.dump();
  std::vector<Tensor> got = testing::run(g, {x, gout});
  ASSERT_EQ(got.size(), 2u);
  for (int k = 0; k < 2; ++k)
    EXPECT_EQ(testing::max_abs_diff(got[k], ref[k]), 0.0) << "x " << xs << " w " << ws << " relu " << relu;
  w.impl()->grad.reset();
  b.impl()->grad.reset();
}

TEST(ConvPoolFusion, BackwardPoolGradIntoWeightGradIsBitIdentical) {
  expect_backward_fused_identical({4, 1, 28, 28}, {32, 1, 3, 3}, {.padding = {1, 1}}, true);  // seed conv1
  expect_backward_fused_identical({3, 1, 15, 15}, {7, 1, 3, 3}, {.padding = {1, 1}}, true);   // odd sizes
  expect_backward_fused_identical({2, 4, 12, 12}, {5, 4, 2, 2}, {}, false);                   // no ReLU
  expect_backward_fused_identical({2, 3, 10, 10}, {6, 3, 3, 3}, {.padding = {1, 1}},
                                  true);  // 27 taps: unfused kernels
}

TEST(ConvPoolFusion, CompiledCnnTrainingStepUsesItAndFollowsEager) {
  manual_seed(3);
  nn::Sequential net{nn::Conv2d({.in = 1, .out = 6, .kernel = 3, .padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Flatten(), nn::Linear(6 * 6 * 6, 10)};
  Tensor x = rand({16, 1, 12, 12}), y = randint(0, 10, {16});
  optim::SGD opt(net->parameters(), {.lr = 0.1});
  auto loss_fn = [](const Tensor& out, const Tensor& t) { return F::cross_entropy(out, t); };
  auto step = jit::compile_train_step(*net.ptr(), loss_fn, opt, {.batch_shards = 1});
  std::vector<Tensor> eager_params;
  {
    // The eager trajectory on a copy of the starting weights.
    nn::Sequential ref{nn::Conv2d({.in = 1, .out = 6, .kernel = 3, .padding = 1}), nn::ReLU(),
                       nn::MaxPool2d(2), nn::Flatten(), nn::Linear(6 * 6 * 6, 10)};
    auto src = net->parameters(), dst = ref->parameters();
    for (size_t i = 0; i < src.size(); ++i) {
      NoGradGuard ng;
      dst[i].copy_(src[i]);
    }
    optim::SGD ropt(ref->parameters(), {.lr = 0.1});
    for (int k = 0; k < 5; ++k) {
      ropt.zero_grad();
      loss_fn(ref(x), y).backward();
      ropt.step();
    }
    eager_params = ref->parameters();
  }
  for (int k = 0; k < 5; ++k) step(x, y);
  ASSERT_NE(step.last_graph(), nullptr);
  EXPECT_NE(step.last_graph()->dump().find("conv2d_relu_max_pool2d"), std::string::npos);
  EXPECT_NE(step.last_graph()->dump().find("pool_grad_conv2d_weight_bias_grad"), std::string::npos);
  // The pool indices, read only by the pool gradients, are stored as uint8 window offsets.
  EXPECT_NE(step.last_graph()->dump().find("uint8[N,6,6,6]"), std::string::npos) << step.last_graph()->dump();
  auto got = net->parameters();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LE(testing::max_abs_diff(got[i], eager_params[i]), 1e-5);
}

}  // namespace
}  // namespace nabla::graph
