// Metrics against values computed independently (by hand, or by an exact formula in the test):
// accuracy variants and Keras's "accuracy" resolution, precision/recall confusion counts, ROC
// AUC (Keras's 200-threshold trapezoid vs the exact Mann-Whitney statistic), mse/mae, weights.
#include <gtest/gtest.h>

#include "nabla/generator.h"
#include "nabla/keras.h"

namespace {
using namespace nabla::keras;
using nabla::Tensor;

Tensor f32(std::vector<float> v, nabla::Shape s) { return nabla::tensor(v).reshape(s); }

TEST(KerasMetrics, AccuracyVariants) {
  Tensor probs = f32({0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.2f, 0.6f, 0.3f, 0.4f, 0.3f}, {4, 3});
  // argmax per row: 1, 0, 2, 1
  Tensor sparse = nabla::tensor<int64_t>({1, 0, 0, 2});  // right, right, wrong, wrong
  metrics::SparseCategoricalAccuracy sca;
  sca.update_state(sparse, probs);
  EXPECT_DOUBLE_EQ(sca.result(), 0.5);
  metrics::CategoricalAccuracy ca;
  ca.update_state(utils::to_categorical(sparse, 3), probs);
  EXPECT_DOUBLE_EQ(ca.result(), 0.5);
  // Accumulates across batches until reset.
  ca.update_state(utils::to_categorical(nabla::tensor<int64_t>({1, 0, 2, 1}), 3), probs);
  EXPECT_DOUBLE_EQ(ca.result(), 6.0 / 8.0);
  ca.reset_state();
  EXPECT_DOUBLE_EQ(ca.result(), 0.0);
  metrics::BinaryAccuracy ba;
  ba.update_state(f32({1, 0, 1, 0}, {4, 1}), f32({0.9f, 0.6f, 0.4f, 0.1f}, {4, 1}));
  EXPECT_DOUBLE_EQ(ba.result(), 0.5);
}

TEST(KerasMetrics, AccuracyPicksTheVariantLikeKeras) {
  Tensor probs = f32({0.1f, 0.9f, 0.8f, 0.2f}, {2, 2});
  metrics::Accuracy a1, a2, a3, a4;
  a1.update_state(nabla::tensor<int64_t>({1, 1}), probs);  // lower rank: sparse
  EXPECT_EQ(a1.resolved(), "SparseCategoricalAccuracy");
  EXPECT_DOUBLE_EQ(a1.result(), 0.5);
  a2.update_state(f32({0, 1, 1, 0}, {2, 2}), probs);  // same shape, several classes: categorical
  EXPECT_EQ(a2.resolved(), "CategoricalAccuracy");
  EXPECT_DOUBLE_EQ(a2.result(), 1.0);
  a3.update_state(f32({1, 0}, {2, 1}), f32({0.7f, 0.6f}, {2, 1}));  // last dim 1: binary
  EXPECT_EQ(a3.resolved(), "BinaryAccuracy");
  EXPECT_DOUBLE_EQ(a3.result(), 0.5);
  a4.update_state(nabla::tensor<int64_t>({1, 0}).reshape({2, 1}), probs);  // [N, 1] ints vs C > 1: sparse
  EXPECT_EQ(a4.resolved(), "SparseCategoricalAccuracy");
  EXPECT_DOUBLE_EQ(a4.result(), 1.0);
}

TEST(KerasMetrics, SampleWeightsWeightTheMean) {
  metrics::SparseCategoricalAccuracy m;
  Tensor probs = f32({0.9f, 0.1f, 0.9f, 0.1f, 0.9f, 0.1f}, {3, 2});
  m.update_state(nabla::tensor<int64_t>({0, 0, 1}), probs, nabla::tensor({1.0f, 1.0f, 2.0f}));
  EXPECT_DOUBLE_EQ(m.result(), 2.0 / 4.0);
}

TEST(KerasMetrics, PrecisionRecallByHand) {
  Tensor y = f32({1, 0, 1, 1, 0, 0}, {6, 1});
  Tensor p = f32({0.8f, 0.7f, 0.3f, 0.6f, 0.2f, 0.51f}, {6, 1});
  // > 0.5: samples 0, 1, 3, 5 -> TP = 2 (0, 3), FP = 2 (1, 5), FN = 1 (2).
  metrics::Precision prec;
  metrics::Recall rec;
  prec.update_state(y, p);
  rec.update_state(y, p);
  EXPECT_DOUBLE_EQ(prec.result(), 0.5);
  EXPECT_DOUBLE_EQ(rec.result(), 2.0 / 3.0);
  // Weighted: weight 3 on sample 1 (a false positive) -> 2 / (2 + 4).
  metrics::Precision pw;
  pw.update_state(y, p, nabla::tensor({1.0f, 3.0f, 1.0f, 1.0f, 1.0f, 1.0f}));
  EXPECT_DOUBLE_EQ(pw.result(), 2.0 / 6.0);
}

/// The exact ROC AUC: P(score of a positive > score of a negative), ties counting 1/2.
double exact_auc(const std::vector<double>& y, const std::vector<double>& p) {
  double num = 0, pairs = 0;
  for (size_t i = 0; i < y.size(); ++i)
    for (size_t j = 0; j < y.size(); ++j)
      if (y[i] > 0.5 && y[j] < 0.5) num += p[i] > p[j] ? 1 : (p[i] == p[j] ? 0.5 : 0), pairs += 1;
  return num / pairs;
}

TEST(KerasMetrics, AucByHandAndAgainstTheExactStatistic) {
  metrics::AUC auc;
  // Scores 0.1, 0.4 (negatives) and 0.35, 0.8 (positives): 3 of 4 pairs ordered -> 0.75, and no
  // two scores share a threshold bucket, so Keras's thresholded AUC is exact here.
  auc.update_state(f32({0, 0, 1, 1}, {4}), f32({0.1f, 0.4f, 0.35f, 0.8f}, {4}));
  EXPECT_NEAR(auc.result(), 0.75, 1e-12);

  nabla::manual_seed(11);
  Tensor score = nabla::rand({400});
  Tensor label = nabla::gt(score + nabla::randn({400}) * 0.3, nabla::full({}, 0.5)).to(nabla::kFloat32);
  metrics::AUC a2;
  a2.update_state(label.narrow(0, 0, 150), score.narrow(0, 0, 150));  // two batches
  a2.update_state(label.narrow(0, 150, 250), score.narrow(0, 150, 250));
  double exact = exact_auc(label.to_vector<double>(), score.to_vector<double>());
  EXPECT_GT(exact, 0.7);
  // 200 thresholds: pairs inside one 1/199-wide bucket count 1/2 instead of 0 or 1.
  EXPECT_NEAR(a2.result(), exact, 5e-3);
  a2.reset_state();
  EXPECT_DOUBLE_EQ(a2.result(), 0.0);
}

TEST(KerasMetrics, MseMaeByHand) {
  metrics::MeanSquaredError mse;
  metrics::MeanAbsoluteError mae;
  Tensor y = f32({1, 2, 3, 4}, {2, 2}), p = f32({1, 0, 4, 4}, {2, 2});
  mse.update_state(y, p);
  mae.update_state(y, p);
  EXPECT_DOUBLE_EQ(mse.result(), (0 + 4 + 1 + 0) / 4.0);
  EXPECT_DOUBLE_EQ(mae.result(), (0 + 2 + 1 + 0) / 4.0);
}

TEST(KerasMetrics, ByNameAndErrors) {
  EXPECT_EQ(metrics::get("acc")->name(), "acc");
  EXPECT_EQ(metrics::get("mse")->name(), "mse");
  EXPECT_THROW(metrics::get("f1"), nabla::Error);
  metrics::CategoricalAccuracy ca;
  EXPECT_THROW(ca.update_state(nabla::zeros({2, 3}), nabla::zeros({2, 4})), nabla::Error);
}

TEST(KerasMetrics, CompiledMetricsSeeProbabilitiesWhenTheLossIsFused) {
  clear_session();
  nabla::manual_seed(5);
  auto model = Sequential({layers::Dense(1, "sigmoid", {.input_shape = {3}})});
  model.compile(
      {.optimizer = "sgd", .loss = "binary_crossentropy", .metrics = {"auc", "precision", "accuracy"}});
  Tensor x = nabla::randn({50, 3});
  Tensor y = nabla::gt(x.sum({1}, true), nabla::full({}, 0.0)).to(nabla::kFloat32);
  auto r = model.evaluate(x, y, {.batch_size = 50, .verbose = 0});
  Tensor p = model.predict(x);
  metrics::AUC auc;
  metrics::Precision prec;
  metrics::BinaryAccuracy acc;
  auc.update_state(y, p), prec.update_state(y, p), acc.update_state(y, p);
  EXPECT_NEAR(r["auc"], auc.result(), 1e-12);
  EXPECT_NEAR(r["precision"], prec.result(), 1e-12);
  EXPECT_NEAR(r["accuracy"], acc.result(), 1e-12);
}

}  // namespace
