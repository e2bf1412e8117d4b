// The examples' training recipes (Linear/ReLU MLP and the small CNN, cross-entropy, Adam 1e-3, batch 32 with
// a partial last batch, pixels / 255, a new order every epoch) against PyTorch's trajectory from the same
// start: tests/fixtures/nn/gen_training.py. Every piece is tested alone elsewhere; this checks they compose
// as in PyTorch (zero_grad, bias gradients summed over the batch, the mean over a partial batch, Adam's
// per-step bias correction, the DataLoader's batching).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "nabla/autograd.h"
#include "nabla/data/data_loader.h"
#include "nabla/data/tensor_dataset.h"
#include "nabla/io/npy.h"
#include "nabla/nn.h"
#include "nabla/optim/adam.h"

namespace nabla {
namespace {

Tensor fixture(const std::string& name) {
  return io::load_npy(std::string(NABLA_FIXTURE_DIR) + "/nn/training/" + name + ".npy");
}

struct Mlp : nn::Module {
  nn::Linear fc1{48, 32}, fc2{32, 32}, fc3{32, 10};
  Mlp() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  Tensor forward(Tensor x) override { return fc3(F::relu(fc2(F::relu(fc1(x))))); }
};

// The orders PyTorch drew (one row per epoch), replayed by epoch.
class FixedOrders : public data::Sampler {
 public:
  explicit FixedOrders(Tensor orders) : orders_(std::move(orders)) {}
  int64_t size() const override { return orders_.size(1); }
  std::vector<int64_t> indices(int64_t epoch) const override { return orders_[epoch].to_vector<int64_t>(); }
  using Sampler::indices;

 private:
  Tensor orders_;
};

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

// Trains `model` (a fresh module) on fixture `prefix` as gen_training.py did and checks every
// step's loss and the final parameters against PyTorch's.
void expect_pytorch_trajectory(nn::Module& model, const std::string& prefix) {
  Tensor orders = fixture(prefix + "orders");
  Tensor x = fixture(prefix + "x").to(kFloat32) / 255.0;
  data::DataLoader loader(
      data::TensorDataset(x, fixture(prefix + "y")),
      {.batch_size = 32, .num_workers = 1, .sampler = std::make_shared<FixedOrders>(orders)});
  nn::OrderedDict<Tensor> init;
  for (const auto& [name, p] : model.named_parameters()) init.insert(name, fixture(prefix + "init_" + name));
  model.load_state_dict(init);
  optim::Adam optimizer(model.parameters(), {.lr = 0.001});
  nn::CrossEntropyLoss criterion;

  std::vector<float> losses = fixture(prefix + "losses").to_vector<float>();
  size_t step = 0;
  for (int64_t epoch = 0; epoch < orders.size(0); ++epoch) {
    int64_t seen = 0;
    for (auto& [data, target] : loader) {
      optimizer.zero_grad();
      auto loss = criterion(model.forward(data), target);
      loss.backward();
      optimizer.step();
      ASSERT_LT(step, losses.size());
      EXPECT_NEAR(loss.item<double>(), losses[step], 1e-5) << "step " << step;
      ++step;
      seen += data.size(0);
    }
    EXPECT_EQ(seen, 100) << "the last partial batch must be kept";
  }
  EXPECT_EQ(step, losses.size());
  for (const auto& [name, p] : model.named_parameters())
    EXPECT_LT(max_abs_diff(p, fixture(prefix + "final_" + name)), 2e-6) << name;
  // The steps moved the parameters far more than the tolerance, so the check has teeth.
  for (const auto& [name, p] : model.named_parameters())
    EXPECT_GT(max_abs_diff(p, fixture(prefix + "init_" + name)), 1e-3) << name;
}

TEST(TrainingTrajectory, MlpAdamMatchesPyTorchStepByStep) {
  Mlp model;
  expect_pytorch_trajectory(model, "mlp_");
}

TEST(TrainingTrajectory, CnnAdamMatchesPyTorchStepByStep) {
  nn::Sequential model{
      nn::Conv2d({.in = 1, .out = 4, .kernel = 3, .padding = 1}),
      nn::ReLU(),
      nn::MaxPool2d(2),
      nn::Conv2d({.in = 4, .out = 8, .kernel = 3, .padding = 1}),
      nn::ReLU(),
      nn::MaxPool2d(2),
      nn::Flatten(),
      nn::Linear(8 * 2 * 2, 16),
      nn::ReLU(),
      nn::Linear(16, 10),
  };
  expect_pytorch_trajectory(*model, "cnn_");
}

}  // namespace
}  // namespace nabla
