// Bundles: export -> load -> run equals the eager model (seed MLP, seed CNN, Keras Sequential with
// BatchNorm + Dropout, functional Keras), at batch sizes other than the example's; Keras save's
// two meanings; atomic replacement.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "../examples/common/seed_models.h"
#include "data/temp_dir.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/deploy.h"
#include "nabla/io/safetensors.h"
#include "nabla/keras.h"
#include "nabla/ops.h"

using namespace nabla;

namespace {

double max_diff(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item<double>(); }

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST(Deploy, SeedMlpRoundTripAnyBatch) {
  manual_seed(1);
  SimpleNet net;
  net.eval();
  data_test::TempDir dir;
  const std::string path = dir / "mlp";
  export_model(net, {randn({8, 784})}, path);
  LoadedModel m = load_model(path);
  EXPECT_TRUE(m.signature().symbolic_batch);
  ASSERT_EQ(m.signature().inputs.size(), 1u);
  EXPECT_EQ(m.signature().inputs[0].shape, (std::vector<int64_t>{-1, 784}));
  EXPECT_EQ(m.signature().outputs[0].shape, (std::vector<int64_t>{-1, 10}));
  EXPECT_EQ(m.num_parameters(), 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10);
  EXPECT_FALSE(m.metadata().at("nabla_version").empty());
  EXPECT_EQ(m.metadata().at("created_utc").back(), 'Z');
  for (int64_t b : {1, 3, 8, 33}) {
    Tensor x = randn({b, 784});
    Tensor got = m(x);
    Tensor want;
    {
      NoGradGuard g;
      want = net.forward(x);
    }
    ASSERT_EQ(got.shape(), want.shape()) << "batch " << b;
    EXPECT_LT(max_diff(got, want), 1e-6) << "batch " << b;
  }
  // The graph names ops by registry name and keeps module names for weights.
  std::string graph = slurp(path + "/graph.json");
  EXPECT_NE(graph.find("\"op\": \"linear\""), std::string::npos);
  EXPECT_NE(graph.find("fc1.weight"), std::string::npos);
  EXPECT_NE(graph.find("\"N\": 1"), std::string::npos);
}

TEST(Deploy, SeedCnnRoundTripAnyBatch) {
  manual_seed(2);
  auto cnn = make_seed_cnn();
  cnn->eval();
  data_test::TempDir dir;
  const std::string path = dir / "cnn";
  export_model(*cnn, {randn({4, 1, 28, 28})}, path);
  LoadedModel m = load_model(path);
  EXPECT_TRUE(m.signature().symbolic_batch);
  EXPECT_EQ(m.signature().inputs[0].shape, (std::vector<int64_t>{-1, 1, 28, 28}));
  bool has_conv = false;
  // Both Conv2d -> ReLU -> MaxPool2d blocks are stored as the fused graph op (fuse_conv_pool).
  for (const auto& [op, n] : m.op_counts()) has_conv = has_conv || (op == "conv2d_relu_max_pool2d" && n == 2);
  EXPECT_TRUE(has_conv) << m.dump();
  for (int64_t b : {1, 4, 5}) {
    Tensor x = randn({b, 1, 28, 28});
    Tensor want;
    {
      NoGradGuard g;
      want = cnn->forward(x);
    }
    EXPECT_LT(max_diff(m(x), want), 1e-6) << "batch " << b;
  }
}

TEST(Deploy, KerasSequentialBatchNormDropoutSave) {
  keras::clear_session();
  manual_seed(3);
  using namespace keras;
  auto model = Sequential({layers::Dense(16, "relu", {.input_shape = {6}}), layers::BatchNormalization(),
                           layers::Dropout(0.5), layers::Dense(3, "softmax")});
  model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  Tensor x = randn({64, 6});
  Tensor y = randint(0, 3, {64});
  model.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0});  // moves the BatchNorm statistics
  data_test::TempDir dir;
  const std::string path = dir / "seq";
  model.train(true);
  model.save(path);  // exports in inference mode (Dropout off, BatchNorm on its statistics) ...
  EXPECT_TRUE(model.is_training());  // ... and restores the model's mode
  LoadedModel m = load_model(path);
  Tensor xt = randn({7, 6});
  Tensor want = model.predict(xt);
  EXPECT_LT(max_diff(m(xt), want), 1e-6);
  EXPECT_EQ(m.metadata().at("keras_type"), "Sequential");
  // A .safetensors path still means the weights file.
  const std::string weights = dir / "w.safetensors";
  model.save(weights);
  EXPECT_TRUE(std::filesystem::is_regular_file(weights));
  EXPECT_GT(nabla::load(weights).size(), 0u);
}

TEST(Deploy, KerasEmbeddingSavesWithIntegerInputs) {
  // save() exports with the dtypes the model last ran on: int64 token ids here, not float32.
  keras::clear_session();
  manual_seed(5);
  using namespace keras;
  auto model =
      Sequential({layers::Embedding(20, 4, {.input_shape = {5}}), layers::Flatten(), layers::Dense(3)});
  model.compile({.optimizer = "adam", .loss = "mse"});
  Tensor ids = randint(0, 20, {16, 5});
  model.fit(ids, randn({16, 3}), {.epochs = 1, .batch_size = 8, .verbose = 0});
  data_test::TempDir dir;
  model.save(dir / "emb");
  LoadedModel m = load_model(dir / "emb");
  EXPECT_EQ(m.signature().inputs.at(0).dtype, kInt64);
  Tensor xt = randint(0, 20, {3, 5});
  EXPECT_LT(max_diff(m(xt), model.predict(xt)), 1e-6);
}

TEST(Deploy, KerasFunctionalTwoInputsTwoOutputs) {
  keras::clear_session();
  manual_seed(4);
  using namespace keras;
  auto img = Input({6, 6, 1}, "img");
  auto meta = Input({3}, "meta");
  auto h = layers::Concatenate()(
      {layers::Flatten()(layers::Conv2D(2, 3, {.activation = "relu"})(img)), layers::Dense(4, "relu")(meta)});
  Model model({img, meta}, {layers::Dense(5, "softmax", {.name = "class"})(h),
                            layers::Dense(1, "", {.name = "score"})(h)});
  data_test::TempDir dir;
  const std::string path = dir / "func";
  model.save(path);
  LoadedModel m = load_model(path);
  ASSERT_EQ(m.signature().inputs.size(), 2u);
  EXPECT_EQ(m.signature().inputs[0].name, "img");
  EXPECT_EQ(m.signature().outputs[0].name, "class");
  EXPECT_EQ(m.signature().outputs[1].name, "score");
  Tensor xi = randn({5, 6, 6, 1}), xm = randn({5, 3});
  auto want = model.predict_all({xi, xm});
  auto got = m({xi, xm});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_LT(max_diff(got[0], want[0]), 1e-6);
  EXPECT_LT(max_diff(got[1], want[1]), 1e-6);
}

TEST(Deploy, ReplacesAnExistingBundleWhole) {
  manual_seed(5);
  SimpleNet a, b;
  data_test::TempDir dir;
  const std::string path = dir / "m";
  export_model(a, {randn({2, 784})}, path);
  export_model(b, {randn({2, 784})}, path);
  Tensor x = randn({2, 784});
  Tensor want;
  {
    NoGradGuard g;
    want = b.forward(x);
  }
  EXPECT_LT(max_diff(load_model(path)(x), want), 1e-6);
  // No temporary folders left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.str())) entries += e.exists() ? 1 : 0;
  EXPECT_EQ(entries, 1);
}

TEST(Deploy, WrongInputsAreClearErrors) {
  manual_seed(6);
  SimpleNet net;
  data_test::TempDir dir;
  const std::string path = dir / "m";
  export_model(net, {randn({2, 784})}, path);
  LoadedModel m = load_model(path);
  try {
    m(randn({2, 785}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must have shape"), std::string::npos) << e.what();
  }
  try {
    m(randn({2, 784}, kFloat64));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_model(dir / "missing"), Error);
}

TEST(Deploy, BatchDependentValuesFallBackToFixedBatch) {
  // mean over the batch folds 1/N into the graph: not c + k*N, so the bundle is fixed-batch.
  data_test::TempDir dir;
  const std::string path = dir / "mean";
  jit::Fn fn = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].mean(Shape{0}) * 2.0}; };
  Tensor x = randn({4, 3});
  export_model(fn, {x}, path);
  LoadedModel m = load_model(path);
  EXPECT_FALSE(m.signature().symbolic_batch);
  EXPECT_EQ(m.signature().fixed_batch, 4);
  EXPECT_EQ(m.signature().inputs[0].shape, (std::vector<int64_t>{4, 3}));
  EXPECT_LT(max_diff(m(x), fn({x})[0]), 1e-6);
  EXPECT_THROW(m(randn({5, 3})), Error);
  // Affine sizes stay symbolic: a reshape to [N * 3] (c + k*N with k = 3).
  jit::Fn flat = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].reshape({-1}) + 1.0}; };
  export_model(flat, {x}, dir / "flat");
  LoadedModel f = load_model(dir / "flat");
  EXPECT_TRUE(f.signature().symbolic_batch);
  EXPECT_EQ(f.signature().outputs[0].shape, (std::vector<int64_t>{-1}));
  Tensor x7 = randn({7, 3});
  EXPECT_LT(max_diff(f(x7), x7.reshape({-1}) + 1.0), 1e-6);
}

TEST(Deploy, RefusesStateUpdatingGraphs) {
  // A function running BatchNorm in training mode updates running statistics: not an inference graph.
  auto bn = nn::BatchNorm1d(3);
  bn->train();
  data_test::TempDir dir;
  jit::Fn fn = [bn](const std::vector<Tensor>& in) { return std::vector<Tensor>{bn->forward(in[0])}; };
  try {
    export_model(fn, {randn({4, 3})}, dir / "bn");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("updates state"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "bn"));
}

TEST(Deploy, ManyOpsRoundTripAnyBatch) {
  // Attributes of many op kinds (dims, slices, paddings, float parameters incl. +-inf, dtypes,
  // broadcast shapes) go through graph.json and back; the loaded graph equals the eager function at
  // another batch size. Weights include an int64 index tensor and a float constant.
  manual_seed(8);
  Tensor w = randn({6, 4});
  Tensor idx = tensor(std::vector<int64_t>{3, 0, 5});
  jit::Fn fn = [w, idx](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];  // [N, 6]
    Tensor a = gelu(x, "tanh") + leaky_relu(x, 0.2) - elu(x, 0.7) * softplus(x, 2.0, 5.0);
    Tensor b = clamp(a, -0.5, std::nullopt) + clamp(x, std::nullopt, 0.25);
    Tensor c = masked_fill(b, x < 0.0, -std::numeric_limits<double>::infinity());
    Tensor d = softmax(c, 1) + log_softmax(x, 1).exp();
    Tensor e = pad(d.slice(1, 1, 5, 2), {1, 2}, 0.5);  // [N, 5]
    Tensor f =
        cat({e, amax(x, Shape{1}, true), x.transpose(0, 1).transpose(0, 1).select(1, 2).unsqueeze(1)}, 1);
    Tensor g = matmul(x, w).permute(Shape{1, 0}).sum(Shape{0}).unsqueeze(1);  // [N, 1]
    Tensor h = index_select(x, 1, idx).to(kFloat64).pow(2.0).to(kFloat32);    // [N, 3]
    Tensor s = where(x > 0.1, x, x * 0.5).sum(Shape{1}, true).expand(Shape{x.shape()[0], 2});
    return std::vector<Tensor>{cat({f, g, h, s}, 1), argmax(x, 1)};
  };
  data_test::TempDir dir;
  export_model(fn, {randn({3, 6})}, dir / "ops");
  LoadedModel m = load_model(dir / "ops");
  EXPECT_TRUE(m.signature().symbolic_batch) << m.dump(2);
  ASSERT_EQ(m.signature().outputs.size(), 2u);
  EXPECT_EQ(m.signature().outputs[1].dtype, kInt64);
  for (int64_t b : {1, 9}) {
    Tensor x = randn({b, 6});
    auto want = fn({x});
    auto got = m.run({x});  // (m({x}) would pick the single-tensor overload)
    ASSERT_EQ(got[0].shape(), want[0].shape()) << m.dump(b);
    EXPECT_LT(max_diff(got[0], want[0]), 1e-6) << "batch " << b;
    EXPECT_TRUE(equal(got[1], want[1])) << "batch " << b;
  }
}
