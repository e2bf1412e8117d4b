// Losses against formulas computed in the test (Keras's definitions) and PyTorch-equivalent
// fused paths: categorical / sparse / binary cross-entropy, from_logits, clipping, mse, mae.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/keras.h"

namespace {
using namespace nabla::keras;
using nabla::Tensor;

Tensor f32(std::vector<float> v, nabla::Shape s) { return nabla::tensor(v).reshape(s); }

TEST(KerasLosses, CategoricalCrossentropyByHand) {
  Tensor p = f32({0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f}, {2, 3});
  Tensor y = f32({1, 0, 0, 0, 0, 1}, {2, 3});
  double want = -(std::log(0.7) + std::log(0.8)) / 2;
  EXPECT_NEAR(losses::CategoricalCrossentropy()(y, p).item<double>(), want, 1e-6);
  EXPECT_NEAR(losses::SparseCategoricalCrossentropy()(nabla::tensor<int64_t>({0, 2}), p).item<double>(), want,
              1e-6);
  // From logits: log-softmax of z.
  Tensor z = f32({2, 1, 0, -1, 0, 3}, {2, 3});
  double lse0 = std::log(std::exp(2.0) + std::exp(1.0) + 1.0),
         lse1 = std::log(std::exp(-1.0) + 1.0 + std::exp(3.0));
  double want_z = ((lse0 - 2.0) + (lse1 - 3.0)) / 2;
  EXPECT_NEAR(losses::CategoricalCrossentropy({.from_logits = true})(y, z).item<double>(), want_z, 1e-6);
  EXPECT_NEAR(losses::SparseCategoricalCrossentropy({.from_logits = true})(nabla::tensor<int64_t>({0, 2}), z)
                  .item<double>(),
              want_z, 1e-6);
}

TEST(KerasLosses, ProbabilitiesAreClippedAndRenormalised) {
  Tensor y = f32({0, 1}, {1, 2});
  // p = 0 for the true class: Keras clips to 1e-7.
  EXPECT_NEAR(losses::CategoricalCrossentropy()(y, f32({1, 0}, {1, 2})).item<double>(), -std::log(1e-7),
              1e-3);
  // Rows that do not sum to 1 are normalised first: [2, 2] -> [0.5, 0.5].
  EXPECT_NEAR(losses::CategoricalCrossentropy()(y, f32({2, 2}, {1, 2})).item<double>(), std::log(2.0), 1e-6);
}

TEST(KerasLosses, LabelSmoothing) {
  Tensor p = f32({0.5f, 0.25f, 0.25f}, {1, 3});
  Tensor y = f32({1, 0, 0}, {1, 3});
  // smoothed target: 0.9 * y + 0.1 / 3
  double t0 = 0.9 + 0.1 / 3, t1 = 0.1 / 3;
  double want = -(t0 * std::log(0.5) + 2 * t1 * std::log(0.25));
  EXPECT_NEAR(losses::CategoricalCrossentropy({.label_smoothing = 0.1})(y, p).item<double>(), want, 1e-6);
}

TEST(KerasLosses, BinaryCrossentropyByHand) {
  Tensor y = f32({1, 0, 1}, {3, 1});
  Tensor p = f32({0.9f, 0.2f, 0.6f}, {3, 1});
  double want = -(std::log(0.9) + std::log(0.8) + std::log(0.6)) / 3;
  EXPECT_NEAR(losses::BinaryCrossentropy()(y, p).item<double>(), want, 1e-6);
  // [N] targets against [N, 1] predictions are accepted.
  EXPECT_NEAR(losses::BinaryCrossentropy()(f32({1, 0, 1}, {3}), p).item<double>(), want, 1e-6);
  // Logits: sigmoid(z) = p.
  Tensor z = (p / (1.0 - p)).log();
  EXPECT_NEAR(losses::BinaryCrossentropy({.from_logits = true})(y, z).item<double>(), want, 1e-5);
}

TEST(KerasLosses, MseMaeMeanOverTheLastAxis) {
  Tensor y = f32({0, 0, 1, 1}, {2, 2}), p = f32({1, 0, 1, 3}, {2, 2});
  EXPECT_NEAR(losses::MeanSquaredError()(y, p).item<double>(), (1 + 0 + 0 + 4) / 4.0, 1e-7);
  EXPECT_NEAR(losses::MeanAbsoluteError()(y, p).item<double>(), (1 + 0 + 0 + 2) / 4.0, 1e-7);
  auto per = losses::MeanSquaredError().per_sample(y, p, false);
  EXPECT_EQ(per.shape(), (nabla::Shape{2}));
  EXPECT_NEAR(per.to_vector<double>()[1], 2.0, 1e-7);
}

TEST(KerasLosses, ShapeMismatchesAreErrors) {
  try {
    losses::MeanSquaredError()(nabla::zeros({4}), nabla::zeros({4, 2}));
    FAIL();
  } catch (const nabla::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("mean_squared_error: expected y_true of the prediction's shape [4, 2], "
                                   "received [4]"),
        std::string::npos)
        << e.what();
  }
  EXPECT_THROW(losses::SparseCategoricalCrossentropy()(nabla::zeros({3, 2}), nabla::zeros({3, 2})),
               nabla::Error);
  EXPECT_THROW(losses::get("kld"), nabla::Error);
}

}  // namespace
