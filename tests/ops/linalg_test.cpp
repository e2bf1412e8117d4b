// Focused tests of the linalg family: error messages, dtypes, zero sizes, BLAS layouts without
// copies, large tiled GEMMs and thread-count determinism.
#include <gtest/gtest.h>

#include "nabla/nabla.h"

namespace nabla {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Reference product in double from plain loops.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  std::vector<double> c(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) c[i * N + j] += av[i * K + k] * bv[k * N + j];
  return tensor(c, Shape{M, N}, kFloat64);
}

TEST(Linalg, ShapeMismatchMessage) {
  auto a = zeros({32, 784}), b = zeros({748, 64});
  EXPECT_EQ(error_of([&] { matmul(a, b); }),
            "matmul: shapes [32, 784] and [748, 64] cannot be multiplied (784 != 748)");
  EXPECT_EQ(error_of([&] { mm(a, b); }),
            "mm: shapes [32, 784] and [748, 64] cannot be multiplied (784 != 748)");
  EXPECT_EQ(error_of([&] { matmul(zeros({3}), zeros({4})); }),
            "matmul: shapes [3] and [4] cannot be multiplied (3 != 4)");
}

TEST(Linalg, OtherErrors) {
  EXPECT_NE(
      error_of([&] { matmul(zeros({}), zeros({3})); }).find("matmul: both arguments need at least 1 dim"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              matmul(zeros({2, 3, 4}), zeros({5, 4, 2}));
            }).find("matmul: batch dims of shapes [2, 3, 4] and [5, 4, 2]"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              mm(zeros({2, 3, 4}), zeros({4, 2}));
            }).find("mm: expected 2-d tensors"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              bmm(zeros({2, 3, 4}), zeros({3, 4, 5}));
            }).find("bmm: batch sizes differ"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              bmm(zeros({3, 4}), zeros({4, 5}));
            }).find("bmm: expected 3-d tensors"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              matmul(zeros({2, 2}, kBool), zeros({2, 2}, kBool));
            }).find("matmul: not implemented for bool"),
            std::string::npos);
  EXPECT_EQ(error_of([&] {
              linear(zeros({5, 4}), zeros({3, 5}));
            }),
            "linear: input of shape [5, 4] does not match weight of shape [3, 5] (4 != 5 in_features)");
  EXPECT_NE(error_of([&] {
              linear(zeros({5, 4}), zeros({3, 4}), zeros({4}));
            }).find("linear: bias of shape [4]"),
            std::string::npos);
}

TEST(Linalg, DtypePromotionAndHalfTypes) {
  Generator g(1);
  auto a = randn({5, 7}, kFloat32, &g), b = randn({7, 3}, kFloat32, &g);
  auto ref = matmul(a, b);
  EXPECT_EQ(matmul(a.to(kInt64), b).dtype(), kFloat32);
  EXPECT_EQ(matmul(a, b.to(kFloat64)).dtype(), kFloat64);
  for (DType d : {kFloat16, kBFloat16}) {
    auto r = matmul(a.to(d), b.to(d));
    EXPECT_EQ(r.dtype(), d);
    EXPECT_TRUE(allclose(r.to(kFloat32), ref, 3e-2, 5e-2)) << d;
    auto l = linear(a.to(d), b.t().to(d), ones({3}, d));
    EXPECT_TRUE(allclose(l.to(kFloat32), ref + 1.0, 3e-2, 5e-2)) << d;
  }
  auto ai = tensor<int64_t>({1, 2, 3, 4}, Shape{2, 2}), bi = tensor<int64_t>({5, 6, 7, 8}, Shape{2, 2});
  EXPECT_EQ(matmul(ai, bi).to_vector<int64_t>(), (std::vector<int64_t>{19, 22, 43, 50}));
  EXPECT_EQ(linear(ai, bi, tensor<int64_t>({1, 1})).to_vector<int64_t>(),
            (std::vector<int64_t>{18, 24, 40, 54}));
}

TEST(Linalg, ZeroSizes) {
  EXPECT_EQ(matmul(zeros({0, 3}), zeros({3, 4})).shape(), Shape({0, 4}));
  EXPECT_EQ(matmul(zeros({2, 0, 3}), zeros({3, 4})).shape(), Shape({2, 0, 4}));
  auto z = matmul(ones({2, 0}), ones({0, 3}));
  EXPECT_EQ(z.shape(), Shape({2, 3}));
  EXPECT_EQ(z.sum().item<float>(), 0.0f);
  auto l = linear(ones({2, 0}), ones({3, 0}), ones({3}));
  EXPECT_EQ(l.sum().item<float>(), 6.0f);
}

TEST(Linalg, TransposedViewsNeedNoCopy) {
  Generator g(2);
  auto a = randn({64, 32}, kFloat32, &g), b = randn({48, 64}, kFloat32, &g), bias = randn({48}, kFloat32, &g);
  auto x3 = randn({4, 8, 64}, kFloat32, &g);
  auto ref = naive_matmul(a.t(), b.t());
  NoGradGuard no_grad;
  reset_memory_stats();
  auto c = mm(a.t(), b.t());  // both operands transposed views: read via the BLAS transpose flags
  EXPECT_EQ(memory_stats().requests, 1u) << "only the output may be allocated";
  EXPECT_TRUE(allclose(c.to(kFloat64), ref, 1e-5, 1e-4));
  reset_memory_stats();
  auto y = linear(x3, b, bias);  // 3-d input folded into one GEMM, bias via beta = 1
  EXPECT_EQ(memory_stats().requests, 1u);
  reset_memory_stats();
  auto y2 = matmul(x3, b.t());
  EXPECT_EQ(memory_stats().requests, 1u);
  EXPECT_TRUE(allclose(y, y2 + bias, 1e-5, 1e-5));
}

TEST(Linalg, StridesBlasCannotReadAreCopied) {
  Generator g(3);
  auto big = randn({6, 10}, kFloat32, &g), b = randn({5, 4}, kFloat32, &g);
  auto a = big.slice(1, 0, 10, 2);  // every other column: column stride 2
  EXPECT_TRUE(allclose(matmul(a, b), matmul(a.contiguous(), b)));
  auto e = randn({1, 5}, kFloat32, &g).expand({3, 5});  // row stride 0
  EXPECT_TRUE(allclose(matmul(e, b), matmul(e.contiguous(), b)));
}

TEST(Linalg, LargeTiledProductsMatchNaive) {
  Generator g(4);
  // Big enough to be split into tiles along N (first) and along M (second), with transposed operands.
  auto a = randn({100, 300}, kFloat32, &g), b = randn({300, 200}, kFloat32, &g);
  EXPECT_TRUE(allclose(matmul(a, b).to(kFloat64), naive_matmul(a, b), 1e-4, 1e-3));
  auto c = randn({300, 600}, kFloat32, &g), d = randn({100, 300}, kFloat32, &g);
  EXPECT_TRUE(allclose(matmul(c.t(), d.t()).to(kFloat64), naive_matmul(c.t(), d.t()), 1e-4, 1e-3));
  auto cd = c.to(kFloat64), dd = d.to(kFloat64);
  EXPECT_TRUE(allclose(matmul(cd.t(), dd.t()), naive_matmul(c.t(), d.t()), 1e-10, 1e-10));
}

TEST(Linalg, SecondDerivative) {
  Generator g(5);
  auto a = randn({3, 4}, kFloat64, &g).set_requires_grad(true),
       b = randn({4, 2}, kFloat64, &g).set_requires_grad(true);
  auto y = (matmul(a, b) * matmul(a, b)).sum();
  auto ga = autograd::grad({y}, {a}, {}, true, true)[0];  // 2 (ab) b^T
  auto gb = autograd::grad({ga.sum()}, {b})[0];           // d/db of sum(2 a b b^T)
  // Reference: finite differences on b.
  auto f = [&](const Tensor& bb) { return (matmul(matmul(a, bb), bb.t()) * 2.0).sum().item<double>(); };
  auto bv = b.detach().to_vector<double>();
  auto gv = gb.to_vector<double>();
  for (size_t i = 0; i < bv.size(); ++i) {
    auto p = bv, m = bv;
    p[i] += 1e-6;
    m[i] -= 1e-6;
    double fd = (f(tensor(p, Shape{4, 2}, kFloat64)) - f(tensor(m, Shape{4, 2}, kFloat64))) / 2e-6;
    EXPECT_NEAR(gv[i], fd, 1e-5);
  }
}

// The seed MLP's forward and backward GEMM shapes, a square 1024 product and a batched one give
// bit-identical results with 1 and 2 threads (OpenBLAS's own threading would not).
TEST(Linalg, ThreadCountDoesNotChangeResults) {
  struct Case {
    Shape a, b;
    bool ta, tb;
  };
  std::vector<Case> cases = {
      {{32, 784}, {784, 64}, false, false},      {{32, 64}, {64, 64}, false, false},
      {{32, 64}, {64, 10}, false, false},        {{64, 32}, {32, 784}, true, false},
      {{32, 64}, {64, 784}, false, false},       {{10, 32}, {32, 64}, true, false},
      {{1024, 1024}, {1024, 1024}, false, true}, {{256, 500}, {500, 300}, false, false}};
  int saved = get_num_threads();
  Generator g(6);
  for (const auto& c : cases) {
    auto a = randn(c.a, kFloat32, &g), b = randn(c.b, kFloat32, &g);
    if (c.ta) a = a.t().contiguous().t();
    if (c.tb) b = b.t().contiguous().t();
    set_num_threads(1);
    auto r1 = matmul(a, b).to_vector<float>();
    set_num_threads(2);
    auto r2 = matmul(a, b).to_vector<float>();
    EXPECT_EQ(r1, r2) << c.a << " x " << c.b;
  }
  auto x = randn({16, 48, 96}, kFloat32, &g), y = randn({16, 96, 80}, kFloat32, &g);
  auto w = randn({64, 784}, kFloat32, &g), bias = randn({64}, kFloat32, &g),
       in = randn({32, 784}, kFloat32, &g);
  set_num_threads(1);
  auto b1 = bmm(x, y).to_vector<float>();
  auto l1 = linear(in, w, bias).to_vector<float>();
  set_num_threads(2);
  auto b2 = bmm(x, y).to_vector<float>();
  auto l2 = linear(in, w, bias).to_vector<float>();
  set_num_threads(saved);
  EXPECT_EQ(b1, b2);
  EXPECT_EQ(l1, l2);
}

}  // namespace
}  // namespace nabla
