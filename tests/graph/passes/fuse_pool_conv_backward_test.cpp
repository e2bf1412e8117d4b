// The backward of a later conv layer (max_pool2d_grad -> conv2d_input_grad + conv2d_weight_bias_grad
// into pool_grad_conv2d_backward, which visits only the pool's winners): before/after dumps, the
// three gradients against the unfused graph (the dense kernels, themselves checked against PyTorch
// fixtures and finite differences) over the geometries its kernels take, thread-count
// independence, the cases it leaves alone, and a compiled CNN training step following eager.
#include "../graph_test_util.h"
#include "nabla/jit.h"

namespace nabla::graph {
namespace {

// Sums in another order than the dense kernels: equal to rounding, relative to the largest value.
void expect_close(const Tensor& got, const Tensor& ref, const std::string& what) {
  ASSERT_EQ(got.shape(), ref.shape()) << what;
  const double scale = std::max(1.0, testing::max_abs_diff(ref, zeros_like(ref)));
  EXPECT_LE(testing::max_abs_diff(got, ref), 2e-6 * scale) << what;
}

struct Layer {
  Shape x, w;
  Conv2dOptions opt;  // (by reference below: see fuse_conv_pool_test.cpp on GCC 12 and by-value options)
  bool relu = true;
  int64_t x_offset = -1;  // >= 0: x is a narrow of a wider tensor along dim 3 (strided input)
  bool channels_last_head = false;  // the pooled output read channels-last (Keras' Flatten)
  DType dtype = kFloat32;
};

// Traces conv -> (relu_)max_pool2d -> weighted sum -> backward for an input that needs a gradient,
// fuses, and compares (dx, dw, db) with the unfused graph.
Graph backward_graph(const Layer& c, Tensor& big, Tensor& w, Tensor& b, Tensor& gout) {
  const Shape bs = c.x_offset >= 0 ? Shape{c.x[0], c.x[1], c.x[2], c.x[3] + 2 * c.x_offset} : c.x;
  big = randn(bs, c.dtype).requires_grad_();
  w = randn(c.w, c.dtype).requires_grad_();
  b = randn({c.w[0]}, c.dtype).requires_grad_();
  auto out = [&](int d) {
    return (c.x[2 + d] + 2 * c.opt.padding[d] - c.opt.dilation[d] * (c.w[2 + d] - 1) - 1) / c.opt.stride[d] + 1;
  };
  const int64_t ho = out(0), wo = out(1);
  gout = randn({c.x[0], c.w[0], ho / 2, wo / 2}, c.dtype);
  Graph g = testing::trace_raw(
      [&](const std::vector<Tensor>& in) {
        for (Tensor* t : {&big, &w, &b}) t->impl()->grad.reset();
        Tensor x = c.x_offset >= 0 ? big.narrow(3, c.x_offset, c.x[3]) : big;
        Tensor conv = conv2d(x, w, b, c.opt);
        Tensor y = c.relu ? relu_max_pool2d(conv) : max_pool2d(conv);
        // Channels-last head: the pooled gradient reaches the pool through a permute (a view).
        if (c.channels_last_head)
          (y.permute({0, 2, 3, 1}).contiguous() * in[0].permute({0, 2, 3, 1})).sum().backward();
        else
          (y * in[0]).sum().backward();
        return std::vector<Tensor>{big.grad(), w.grad(), b.grad()};
      },
      {gout});
  testing::run_cleanup_passes(g);
  return g;
}

void expect_fused_close(const Layer& c) {
  Tensor big, w, b, gout;
  Graph g = backward_graph(c, big, w, b, gout);
  std::ostringstream what;
  what << "x " << c.x << " w " << c.w << " relu " << c.relu;
  ASSERT_EQ(testing::count_op(g, ops::OpId::max_pool2d_grad), 1) << g.dump();
  std::vector<Tensor> ref = testing::run(g, {gout});
  EXPECT_EQ(fuse_conv_pool(g), c.relu ? 2 : 1) << g.dump();  // with ReLU the forward pair too
  g.verify();
  EXPECT_EQ(testing::count_op(g, ops::OpId::pool_grad_conv2d_backward), 1) << g.dump();
  EXPECT_EQ(testing::count_op(g, ops::OpId::max_pool2d_grad), 0) << g.dump();
  EXPECT_EQ(testing::count_op(g, ops::OpId::conv2d_input_grad), 0) << g.dump();
  EXPECT_EQ(testing::count_op(g, ops::OpId::conv2d_weight_bias_grad), 0) << g.dump();
  std::vector<Tensor> got = testing::run(g, {gout});
  ASSERT_EQ(got.size(), 3u);
  const char* names[3] = {" dx", " dw", " db"};
  for (int k = 0; k < 3; ++k) expect_close(got[k], ref[k], what.str() + names[k]);
  for (Tensor* t : {&big, &w, &b}) t->impl()->grad.reset();
}

TEST(PoolConvBackwardFusion, DumpBeforeAndAfter) {
  Tensor big, w, b, gout;
  Graph g = backward_graph({{1, 2, 4, 4}, {3, 2, 3, 3}, {.padding = {1, 1}}}, big, w, b, gout);
  testing::check_pass(g, fuse_conv_pool, {gout},
                      "graph(%0: float32[N,3,2,2]) {\n"
                      "  %1 = param : float32[1,2,4,4]\n"
                      "  %2 = param : float32[3,2,3,3]\n"
                      "  %3 = param : float32[3]\n"
                      "  %4 = conv2d(%1, %2, %3) {i=[1,1,1,1,1,1,1]} : float32[1,3,4,4]\n"
                      "  %5, %6 = relu_max_pool2d(%4) {i=[2,2,2,2]} : float32[1,3,2,2], int64[1,3,2,2]\n"
                      "  %17 = max_pool2d_grad(%0, %6, %5) {shape=[1, 3, 4, 4] i=[2,2,2,2]} : float32[N,3,4,4]\n"
                      "  %18 = conv2d_input_grad(%17, %2) {shape=[1, 2, 4, 4] i=[1,1,1,1,1,1,1]} : float32[N,2,4,4]\n"
                      "  %19, %20 = conv2d_weight_bias_grad(%17, %1) {shape=[3, 2, 3, 3] i=[1,1,1,1,1,1,1]} : "
                      "float32[3,2,3,3], float32[3]\n"
                      "  return (%18, %19, %20)\n}\n",
                      // One node for the three gradients; the pooled indices, now read only by it,
                      // become uint8 window offsets.
                      "graph(%0: float32[N,3,2,2]) {\n"
                      "  %1 = param : float32[1,2,4,4]\n"
                      "  %2 = param : float32[3,2,3,3]\n"
                      "  %3 = param : float32[3]\n"
                      "  %5, %6 = conv2d_relu_max_pool2d(%1, %2, %3) {i=[1,1,1,1,1,1,1,2,2,2,2,0,0,1]} : "
                      "float32[1,3,2,2], uint8[1,3,2,2]\n"
                      "  %18, %19, %20 = pool_grad_conv2d_backward(%1, %2, %0, %6, %5) {i=[1,1,1,1,1,1,1,2,2,2,2]} : "
                      "float32[N,2,4,4], float32[3,2,3,3], float32[3]\n"
                      "  return (%18, %19, %20)\n}\n",
                      1e-5);
}

TEST(PoolConvBackwardFusion, MatchesTheUnfusedKernels) {
  expect_fused_close({{4, 32, 14, 14}, {64, 32, 3, 3}, {.padding = {1, 1}}});  // the seed CNN's conv2
  expect_fused_close({{3, 5, 15, 15}, {7, 5, 3, 3}, {.padding = {1, 1}}});     // odd sizes, 5 channels
  expect_fused_close({{2, 20, 9, 10}, {6, 20, 3, 3}, {.padding = {1, 1}}});    // 2 vectors, 4 padded lanes
  expect_fused_close({{2, 40, 8, 8}, {5, 40, 3, 3}, {.padding = {1, 1}}});     // 3 vectors (runtime taps)
  expect_fused_close({{2, 64, 6, 6}, {4, 64, 3, 3}, {.padding = {1, 1}}});     // 4 vectors
  expect_fused_close({{2, 8, 12, 12}, {6, 8, 5, 5}, {.padding = {2, 2}}});     // 25 taps
  expect_fused_close({{2, 3, 10, 9}, {4, 3, 3, 2}, {.padding = {0, 1}}});      // unequal kernel and padding
  expect_fused_close({{2, 6, 8, 8}, {5, 6, 3, 3}, {.padding = {1, 1}}, false});  // no ReLU: int64 indices
  // 17 images: three chunks of partial sums, the last one short.
  expect_fused_close({{17, 4, 6, 6}, {3, 4, 3, 3}, {.padding = {1, 1}}});
  // A strided (non-contiguous) input.
  expect_fused_close({{2, 3, 8, 8}, {4, 3, 3, 3}, {.padding = {1, 1}}, true, 3});
  // A pooled gradient that arrives through a permute (as from Keras' channels-last Flatten).
  expect_fused_close({{2, 6, 8, 8}, {5, 6, 3, 3}, {.padding = {1, 1}}, true, -1, true});
}

TEST(PoolConvBackwardFusion, NotWhereItsKernelsDoNotApply) {
  for (const Layer& c : {Layer{{2, 3, 12, 12}, {4, 3, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}},
                         Layer{{2, 4, 10, 10}, {6, 2, 3, 3}, {.padding = {1, 1}, .groups = 2}},
                         Layer{{2, 3, 9, 9}, {4, 3, 3, 3}, {.dilation = {2, 2}}},
                         Layer{{1, 65, 6, 6}, {2, 65, 3, 3}, {.padding = {1, 1}}}}) {
    Tensor big, w, b, gout;
    Graph g = backward_graph(c, big, w, b, gout);
    fuse_conv_pool(g);
    EXPECT_EQ(testing::count_op(g, ops::OpId::pool_grad_conv2d_backward), 0) << g.dump();
    EXPECT_EQ(testing::count_op(g, ops::OpId::conv2d_input_grad), 1) << g.dump();
    for (Tensor* t : {&big, &w, &b}) t->impl()->grad.reset();
  }
}

TEST(PoolConvBackwardFusion, Float64KeepsTheUnfusedKernelsOnCompactIndices) {
  // float64 is not fused; its pool indices still become uint8 window offsets, which the unfused
  // max_pool2d_grad reads for any dtype and through a permuted gradient: bit-identical results.
  for (bool permuted : {false, true}) {
    Tensor big, w, b, gout;
    Layer c{{2, 4, 8, 8}, {5, 4, 3, 3}, {.padding = {1, 1}}, true, -1, permuted, kFloat64};
    Graph g = backward_graph(c, big, w, b, gout);
    std::vector<Tensor> ref = testing::run(g, {gout});
    fuse_conv_pool(g);
    EXPECT_EQ(testing::count_op(g, ops::OpId::pool_grad_conv2d_backward), 0) << g.dump();
    EXPECT_NE(g.dump().find("uint8"), std::string::npos) << g.dump();
    std::vector<Tensor> got = testing::run(g, {gout});
    for (int k = 0; k < 3; ++k) EXPECT_EQ(testing::max_abs_diff(got[k], ref[k]), 0.0) << k << " " << permuted;
    for (Tensor* t : {&big, &w, &b}) t->impl()->grad.reset();
  }
}

TEST(PoolConvBackwardFusion, SameResultAtOneAndTwoThreads) {
  Tensor big, w, b, gout;
  Graph g = backward_graph({{20, 16, 10, 10}, {24, 16, 3, 3}, {.padding = {1, 1}}}, big, w, b, gout);
  ASSERT_EQ(fuse_conv_pool(g), 2);
  const int saved = get_num_threads();
  set_num_threads(1);
  std::vector<Tensor> one = testing::run(g, {gout});
  set_num_threads(2);
  std::vector<Tensor> two = testing::run(g, {gout});
  set_num_threads(saved);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(testing::max_abs_diff(one[k], two[k]), 0.0) << k;
  for (Tensor* t : {&big, &w, &b}) t->impl()->grad.reset();
}

TEST(PoolConvBackwardFusion, CompiledTwoLayerCnnFollowsEager) {
  manual_seed(5);
  auto make = [] {
    return nn::Sequential{nn::Conv2d({.in = 1, .out = 8, .kernel = 3, .padding = 1}),
                          nn::ReLU(),
                          nn::MaxPool2d(2),
                          nn::Conv2d({.in = 8, .out = 12, .kernel = 3, .padding = 1}),
                          nn::ReLU(),
                          nn::MaxPool2d(2),
                          nn::Flatten(),
                          nn::Linear(12 * 3 * 3, 10)};
  };
  nn::Sequential net = make(), ref = make();
  {
    NoGradGuard ng;
    auto src = net->parameters(), dst = ref->parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  Tensor x = rand({16, 1, 12, 12}), y = randint(0, 10, {16});
  auto loss_fn = [](const Tensor& out, const Tensor& t) { return F::cross_entropy(out, t); };
  optim::Adam opt(net->parameters(), {.lr = 1e-2}), ropt(ref->parameters(), {.lr = 1e-2});
  auto step = jit::compile_train_step(*net.ptr(), loss_fn, opt, {.batch_shards = 1});
  for (int k = 0; k < 20; ++k) {
    step(x, y);
    ropt.zero_grad();
    loss_fn(ref(x), y).backward();
    ropt.step();
  }
  ASSERT_NE(step.last_graph(), nullptr);
  EXPECT_NE(step.last_graph()->dump().find("pool_grad_conv2d_backward"), std::string::npos)
      << step.last_graph()->dump();
  auto got = net->parameters(), want = ref->parameters();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LE(testing::max_abs_diff(got[i], want[i]), 1e-4) << i;
}

}  // namespace
}  // namespace nabla::graph
