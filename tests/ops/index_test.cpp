// Index family: error messages, negative dims, int32 indices, zero-size and 0-d inputs, src larger
// than the index, second derivatives, and thread-count determinism of the accumulating ops.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/nabla.h"

namespace nabla {
namespace {

// EXPECT that fn throws nabla::Error whose message contains every part.
template <typename F>
void expect_error(F&& fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

Tensor grid(int64_t r, int64_t c) { return arange(0, r * c, 1).reshape({r, c}).to(kFloat32); }

TEST(Index, OutOfRangeErrorsNameOpValueAndRange) {
  Tensor x = grid(5, 3);
  expect_error(
      [&] {
        index_select(x, 0, tensor({1, 7}));
      },
      {"index_select: index 7 is out of range for dim 0 with size 5"});
  expect_error(
      [&] {
        gather(x, 1, tensor({{0, -1}}));
      },
      {"gather: index -1 is out of range for dim 1 with size 3"});
  expect_error(
      [&] {
        scatter_add(x, 0, tensor({{5}}), ones({1, 1}));
      },
      {"scatter_add: index 5 is out of range for dim 0 with size 5"});
  expect_error(
      [&] {
        index_add(x, 1, tensor({0, 3}), ones({5, 2}));
      },
      {"index_add: index 3 is out of range for dim 1 with size 3"});
  expect_error([&] { embedding(x, tensor({{0, 9}})); }, {"embedding", "index 9 is out of range", "size 5"});
  expect_error([&] { index_select(x, 0, tensor({7}, kInt32)); }, {"index 7 is out of range"});
}

TEST(Index, ShapeAndDtypeErrors) {
  Tensor x = grid(4, 3);
  expect_error([&] { gather(x, 0, tensor({1.f})); }, {"gather", "int64", "float32"});
  expect_error([&] { gather(x, 0, tensor({0, 1})); }, {"gather", "[2]", "[4, 3]"});
  expect_error([&] { gather(x, 0, zeros({2, 4}, kInt64)); }, {"gather", "dim 1"});
  expect_error([&] { scatter_add(x, 0, zeros({2, 2}, kInt64), ones({1, 2})); }, {"scatter_add", "src"});
  expect_error([&] { index_select(x, 0, zeros({2, 2}, kInt64)); }, {"index_select", "[2, 2]"});
  expect_error([&] { index_add(x, 0, tensor({0, 1}), ones({3, 3})); }, {"index_add", "[2, 3]", "[3, 3]"});
  expect_error([&] { gather(x, 2, tensor({{0}})); }, {"gather"});
  expect_error([&] { embedding(ones({3}), tensor({0})); }, {"embedding", "2-d"});
  expect_error([&] { tril(ones({3})); }, {"tril", "[3]"});
  expect_error([&] { masked_fill(x, ones({4, 3}), 1.0); }, {"masked_fill", "bool"});
}

TEST(Index, OneHot) {
  EXPECT_TRUE(equal(one_hot(tensor({2, 0})), tensor({{0, 0, 1}, {1, 0, 0}})));
  EXPECT_EQ(one_hot(tensor({1}), 4).dtype(), kInt64);
  EXPECT_EQ(one_hot(tensor({1, 2}, kInt32), 4).shape(), (Shape{2, 4}));
  expect_error([] { one_hot(tensor({0, -1})); }, {"one_hot", "non-negative", "-1"});
  expect_error([] { one_hot(tensor({0, 3}), 3); }, {"one_hot", "class value 3", "num_classes 3"});
  expect_error([] { one_hot(zeros({0}, kInt64)); }, {"one_hot", "empty"});
  EXPECT_EQ(one_hot(zeros({0}, kInt64), 3).shape(), (Shape{0, 3}));
  expect_error([] { one_hot(tensor({0.f})); }, {"one_hot", "float32"});
}

TEST(Index, NegativeDimsMatchPositive) {
  Tensor x = grid(4, 5);
  Tensor idx = tensor({{0, 4, 4}, {1, 2, 3}});
  EXPECT_TRUE(equal(gather(x, -1, idx), gather(x, 1, idx)));
  EXPECT_TRUE(equal(index_select(x, -2, tensor({3, 0})), index_select(x, 0, tensor({3, 0}))));
  Tensor src = ones({2, 3});
  EXPECT_TRUE(equal(scatter_add(x, -1, idx, src), scatter_add(x, 1, idx, src)));
  EXPECT_TRUE(
      equal(index_add(x, -1, tensor({0, 0}), ones({4, 2})), index_add(x, 1, tensor({0, 0}), ones({4, 2}))));
}

TEST(Index, Int32IndicesMatchInt64) {
  Tensor x = grid(4, 5);
  Tensor i64 = tensor({{0, 4}, {2, 2}});
  Tensor i32 = i64.to(kInt32);
  EXPECT_TRUE(equal(gather(x, 1, i32), gather(x, 1, i64)));
  EXPECT_TRUE(equal(scatter_add(x, 1, i32, ones({2, 2})), scatter_add(x, 1, i64, ones({2, 2}))));
  EXPECT_TRUE(equal(index_select(x, 1, tensor({4, 1}, kInt32)), index_select(x, 1, tensor({4, 1}))));
  EXPECT_TRUE(
      equal(index_add(x, 0, tensor({3}, kInt32), ones({1, 5})), index_add(x, 0, tensor({3}), ones({1, 5}))));
}

TEST(Index, ValuesByHand) {
  Tensor x = grid(3, 4);  // [[0..3], [4..7], [8..11]]
  EXPECT_TRUE(
      equal(gather(x, 1, tensor({{3, 0}, {1, 1}, {2, 3}})), tensor({{3.f, 0.f}, {5.f, 5.f}, {10.f, 11.f}})));
  EXPECT_TRUE(
      equal(index_select(x, 0, tensor({2, 0})), tensor({{8.f, 9.f, 10.f, 11.f}, {0.f, 1.f, 2.f, 3.f}})));
  EXPECT_TRUE(equal(scatter_add(zeros({2, 3}), 0, tensor({{1, 1, 0}, {1, 0, 0}}), ones({2, 3})),
                    tensor({{0.f, 1.f, 2.f}, {2.f, 1.f, 0.f}})));
  EXPECT_TRUE(equal(index_add(zeros({3, 2}), 0, tensor({2, 2, 0}), ones({3, 2}), 3),
                    tensor({{3.f, 3.f}, {0.f, 0.f}, {6.f, 6.f}})));
  // integer and bool dtypes
  EXPECT_TRUE(equal(gather(tensor({5, 6, 7}), 0, tensor({2, 2})), tensor({7, 7})));
  EXPECT_TRUE(equal(index_add(zeros({2}, kInt64), 0, tensor({1, 1}), tensor({3, 4})), tensor({0, 7})));
  EXPECT_TRUE(equal(index_select(tensor({true, false}), 0, tensor({1, 0, 0})), tensor({false, true, true})));
  // a non-contiguous input (transposed)
  EXPECT_TRUE(equal(index_select(x.t(), 1, tensor({2})), tensor({{8.f}, {9.f}, {10.f}, {11.f}})));
}

TEST(Index, ZeroSizeAndZeroDim) {
  Tensor x = grid(3, 4);
  EXPECT_EQ(index_select(x, 0, zeros({0}, kInt64)).shape(), (Shape{0, 4}));
  EXPECT_EQ(gather(x, 1, zeros({3, 0}, kInt64)).shape(), (Shape{3, 0}));
  EXPECT_TRUE(equal(scatter_add(x, 1, zeros({3, 0}, kInt64), zeros({3, 0})), x));
  EXPECT_TRUE(equal(index_add(x, 0, zeros({0}, kInt64), zeros({0, 4})), x));
  EXPECT_EQ(embedding(x, zeros({2, 0}, kInt64)).shape(), (Shape{2, 0, 4}));
  Tensor s = full({}, 2.5);
  EXPECT_EQ(gather(s, 0, full({}, 0, kInt64)).item<float>(), 2.5f);
  EXPECT_EQ(index_select(s, 0, full({}, 0, kInt64)).dim(), 0);
  EXPECT_EQ(index_select(tensor({1.f, 2.f}), 0, full({}, 1, kInt64)).shape(), (Shape{1}));
  EXPECT_EQ(embedding(x, full({}, 2, kInt64)).shape(), (Shape{4}));
}

// torch allows src to be larger than the index; only the covered part is used, and (unlike
// torch 1.13, which errors) its gradient is zero elsewhere.
TEST(Index, ScatterAddSrcLargerThanIndex) {
  Tensor src = grid(2, 3).set_requires_grad(true);
  Tensor out = scatter_add(zeros({2, 4}), 1, tensor({{3}, {0}}), src);
  EXPECT_TRUE(equal(out, tensor({{0.f, 0.f, 0.f, 0.f}, {3.f, 0.f, 0.f, 0.f}})));
  out.backward(grid(2, 4));
  EXPECT_TRUE(equal(src.grad(), tensor({{3.f, 0.f, 0.f}, {4.f, 0.f, 0.f}})));
}

TEST(Index, SecondDerivativeThroughIndexAdd) {
  Tensor x = grid(4, 2).set_requires_grad(true);
  Tensor idx = tensor({3, 3, 1});
  Tensor gout = ones({3, 2}).set_requires_grad(true);
  auto gx = autograd::grad({index_select(x, 0, idx)}, {x}, {gout}, true, true)[0];
  EXPECT_TRUE(equal(gx.detach(), tensor({{0.f, 0.f}, {1.f, 1.f}, {0.f, 0.f}, {2.f, 2.f}})));
  auto gg = autograd::grad({gx}, {gout}, {grid(4, 2)})[0];
  EXPECT_TRUE(equal(gg, index_select(grid(4, 2), 0, idx)));
}

TEST(Index, MaskedFillInPlace) {
  Tensor x = grid(2, 3);
  uint32_t v = x.version();
  x.masked_fill_(tensor({true, false, true}), -1.0);
  EXPECT_TRUE(equal(x, tensor({{-1.f, 1.f, -1.f}, {-1.f, 4.f, -1.f}})));
  EXPECT_GT(x.version(), v);
  Tensor i = tensor({1, 2, 3});
  i.masked_fill_(tensor({false, true, false}), 7);
  EXPECT_TRUE(equal(i, tensor({1, 7, 3})));
  Tensor small = ones({3});
  EXPECT_THROW(small.masked_fill_(zeros({2, 3}, kBool), 0.0), Error);
  // on a non-leaf with history: the filled entries get no gradient
  Tensor leaf = ones({3}).set_requires_grad(true);
  Tensor y = leaf * 2.0;
  y.masked_fill_(tensor({true, false, false}), 5.0);
  EXPECT_TRUE(equal(y.detach(), tensor({5.f, 2.f, 2.f})));
  y.backward(ones({3}));
  EXPECT_TRUE(equal(leaf.grad(), tensor({0.f, 2.f, 2.f})));
}

TEST(Index, TrilTriuZeroInfAndKeepGradMask) {
  Tensor x = full({3, 3}, INFINITY).set_requires_grad(true);
  Tensor y = tril(x);
  EXPECT_EQ(y.to_vector<float>()[1], 0.f);  // not inf * 0 = nan
  y.backward(ones({3, 3}));
  EXPECT_TRUE(equal(x.grad(), tensor({{1.f, 0.f, 0.f}, {1.f, 1.f, 0.f}, {1.f, 1.f, 1.f}})));
  EXPECT_TRUE(equal(triu(ones({2, 3}, kInt64), 1), tensor({{0, 1, 1}, {0, 0, 1}})));
}

// Accumulating ops must give bit-identical results whatever the thread count (many collisions,
// float32 values whose sums depend on the order).
TEST(Index, AccumulationIsThreadCountIndependent) {
  Generator g(7);
  Tensor base = randn({16, 100000}, kFloat32, &g);
  Tensor sidx = randint(0, 16, {64, 100000}, kInt64, &g);
  Tensor src = randn({64, 100000}, kFloat32, &g);
  Tensor aidx = randint(0, 100, {5000}, kInt64, &g);
  Tensor asrc = randn({5000, 1000}, kFloat32, &g);
  Tensor abase = randn({100, 1000}, kFloat32, &g);
  int saved = get_num_threads();
  std::vector<std::vector<float>> r[2];
  for (int t = 1; t <= 2; ++t) {
    set_num_threads(t);
    r[t - 1].push_back(scatter_add(base, 0, sidx, src).to_vector<float>());
    r[t - 1].push_back(index_add(abase, 0, aidx, asrc).to_vector<float>());
    r[t - 1].push_back(gather(src, 0, sidx).to_vector<float>());
    r[t - 1].push_back(index_select(asrc, 0, aidx).to_vector<float>());
  }
  set_num_threads(saved);
  for (size_t k = 0; k < r[0].size(); ++k) EXPECT_TRUE(r[0][k] == r[1][k]) << "result " << k << " differs";
  // and the order is the sequential one: compare one column against a serial float sum
  auto sv = src.to_vector<float>();
  auto iv = sidx.to_vector<int64_t>();
  auto bv = base.to_vector<float>();
  for (int64_t row = 0; row < 16; ++row) {
    float acc = bv[row * 100000 + 5];
    for (int64_t j = 0; j < 64; ++j)
      if (iv[j * 100000 + 5] == row) acc += sv[j * 100000 + 5];
    EXPECT_EQ(r[0][0][row * 100000 + 5], acc);
  }
}

}  // namespace
}  // namespace nabla
