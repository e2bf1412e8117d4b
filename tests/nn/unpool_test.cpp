// MaxPool2d's indices (PyTorch's return_indices=True) and MaxUnpool2d against PyTorch
// (fixtures: tests/fixtures/nn/gen_unpool.py): values, int64 indices for plain, padded, 3-d,
// overlapping, dilated and ceil-mode pools; unpooled values and the gradient back to the pooled
// values; the errors for bad indices and output sizes.
#include <gtest/gtest.h>

#include <sstream>

#include "nabla/nabla.h"
#include "nabla/nn.h"
#include "support/expect_close.h"
#include "support/expect_error.h"
#include "support/fixture_suite.h"

namespace {
using nabla::Tensor;
namespace nn = nabla::nn;
using nabla::testing::expect_close;

Tensor load(const std::string& c, const std::string& name) {
  return nabla::testing::fixture_in("nn/unpool", c, name);
}

void expect_same_indices(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.dtype(), nabla::kInt64) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  EXPECT_EQ(got.to_vector<int64_t>(), want.to_vector<int64_t>()) << what;
}

TEST(MaxPoolIndices, MatchPyTorch) {
  struct Case {
    const char* name;
    nn::MaxPool2dImpl::Options options;
  };
  for (const Case& c :
       {Case{"plain", {.kernel = 2}}, Case{"odd_size", {.kernel = 2}},
        Case{"stride_pad", {.kernel = 3, .stride = 3, .padding = 1}},
        Case{"three_d", {.kernel = nn::Size2(2, 3)}},
        Case{"overlap", {.kernel = 3, .stride = 2, .padding = 1}},
        Case{"dilation_ceil", {.kernel = 3, .stride = 2, .padding = 1, .dilation = 2, .ceil_mode = true}},
        Case{"ceil", {.kernel = 2, .stride = 2, .ceil_mode = true}}}) {
    SCOPED_TRACE(c.name);
    nn::MaxPool2d pool(c.options);
    auto [y, idx] = pool->forward_with_indices(load(c.name, "x"));
    expect_close(y, load(c.name, "y"), std::string(c.name) + ": y");
    expect_same_indices(idx, load(c.name, "idx"), c.name);
    expect_close(pool(load(c.name, "x")), y, std::string(c.name) + ": forward equals forward_with_indices");
  }
}

TEST(MaxUnpool, MatchesPyTorchValuesAndGradient) {
  struct Case {
    const char* name;
    nn::MaxUnpool2dImpl::Options options;
    bool output_size;
  };
  for (const Case& c :
       {Case{"plain", {.kernel = 2}, false}, Case{"odd_size", {.kernel = 2}, true},
        Case{"stride_pad", {.kernel = 3, .stride = 3, .padding = 1}, true},
        Case{"three_d", {.kernel = nn::Size2(2, 3)}, false}, Case{"ceil", {.kernel = 2}, true}}) {
    SCOPED_TRACE(c.name);
    Tensor x = load(c.name, "x");
    nn::MaxUnpool2d unpool(c.options);
    Tensor y = load(c.name, "y");
    y.set_requires_grad(true);
    std::optional<nn::Size2> size;
    if (c.output_size) size = nn::Size2(x.size(-2), x.size(-1));
    Tensor u = unpool(y, load(c.name, "idx"), size);
    expect_close(u, load(c.name, "u"), std::string(c.name) + ": u");
    (u * load(c.name, "gu")).sum().backward();
    expect_close(y.grad(), load(c.name, "gy"), std::string(c.name) + ": gy");
  }
}

// Overlapping windows can pick one position twice: it holds the value once (PyTorch writes it).
TEST(MaxUnpool, PositionPickedByTwoWindowsHoldsTheValueOnce) {
  Tensor x = nabla::tensor<float>({0, 0, 0, 0, 9, 0, 0, 0, 0}, nabla::Shape{1, 1, 3, 3});
  auto [y, idx] = nabla::F::max_pool2d_with_indices(x, {.kernel = {2, 2}, .stride = {1, 1}});
  EXPECT_EQ(idx.to_vector<int64_t>(), (std::vector<int64_t>{4, 4, 4, 4}));
  Tensor u = nabla::F::max_unpool2d(y, idx, {.kernel = {2, 2}, .stride = {1, 1}});
  expect_close(u, x, "unpooled");
}

TEST(MaxUnpool, BadIndicesAndSizesAreNamed) {
  Tensor y = nabla::randn({1, 1, 2, 2});
  Tensor bad = nabla::tensor<int64_t>({0, 1, 70, 3}, nabla::Shape{1, 1, 2, 2});
  EXPECT_ERROR_HAS(nabla::F::max_unpool2d(y, bad), "index 70 is out of range");
  EXPECT_ERROR_HAS(nabla::F::max_unpool2d(y, bad.to(nabla::kFloat32)), "indices must be the int64 indices");
  EXPECT_ERROR_HAS(nabla::F::max_unpool2d(y, nabla::zeros({1, 1, 2, 3}, nabla::kInt64)),
                   "must have the input's shape [1, 1, 2, 2]");
  EXPECT_ERROR_HAS(nabla::F::max_unpool2d(y, nabla::zeros({1, 1, 2, 2}, nabla::kInt64),
                                          {.kernel = {2, 2}, .output_size = {9, 4}}),
                   "output_size [9, 4] must be within one stride of the default [4, 4]");
}

TEST(MaxUnpool, ReprLikePyTorch) {
  std::ostringstream s;
  s << *nn::MaxUnpool2d(2);
  EXPECT_EQ(s.str(), "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))");
}

}  // namespace
