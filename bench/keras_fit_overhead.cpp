// What does the Keras API cost? One epoch of the 784-64-64-10 MLP on Fashion-MNIST
// (batch 32, Adam, shuffled, 1 loader worker) trained three ways in the same process:
//   hand  - the PyTorch-style loop of examples/pytorch_style.cpp (DataLoader over a TensorDataset,
//           zero_grad / forward / CrossEntropyLoss / backward / step, loss.item() and the count of
//           correct predictions per batch, as that example does);
//   fit   - keras Sequential(Dense relu, Dense relu, Dense softmax), sparse_categorical_crossentropy,
//           metrics {"accuracy"}, fit(epochs = 1, verbose = 0) (eager: run_eagerly);
//   fit1h - the exact compile: categorical_crossentropy on one-hot targets.
// Runs are interleaved (hand, fit, fit1h) 7 times; medians and ratios are printed.
//   ./build-bench/bench/keras_fit_overhead [threads] [repeats]
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/tensor_dataset.h>
#include <nabla/keras.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace nabla;

struct SimpleNet : nn::Module {
  nn::Linear fc1{784, 64}, fc2{64, 64}, fc3{64, 10};
  SimpleNet() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  Tensor forward(Tensor x) override { return fc3(F::relu(fc2(F::relu(fc1(x))))); }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 1);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
  data::datasets::FashionMNIST ds(data::datasets::FashionMNIST::kDefaultRoot, true);
  Tensor x = (ds.images().to(kFloat32).reshape({-1, 784}) / 255.0).contiguous();
  Tensor y = ds.labels().contiguous();
  Tensor y1h = keras::utils::to_categorical(y, 10);
  const double n = double(x.size(0));

  manual_seed(1);
  SimpleNet net;
  optim::Adam opt(net.parameters(), {.lr = 0.001, .eps = 1e-7});
  nn::CrossEntropyLoss criterion;
  data::DataLoader loader(data::TensorDataset(x, y),
                          {.batch_size = 32, .shuffle = true, .num_workers = 1, .seed = 1});

  using namespace keras;
  auto make = [] {
    return std::make_unique<Sequential>(
        std::initializer_list<LayerRef>{layers::Dense(64, "relu", {.input_shape = {784}}),
                                        layers::Dense(64, "relu"), layers::Dense(10, "softmax")});
  };
  auto sparse = make();
  sparse->compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  auto onehot = make();
  onehot->compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});

  std::vector<double> hand, fit, fit1h;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t correct = 0;
    for (auto& [data, target] : loader) {
      opt.zero_grad();
      auto output = net(data);
      auto loss = criterion(output, target);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * data.size(0);
      correct += eq(output.argmax(1), target).sum().item<int64_t>();
    }
    hand.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    sparse->fit(x, y, {.epochs = 1, .batch_size = 32, .verbose = 0});
    fit.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    onehot->fit(x, y1h, {.epochs = 1, .batch_size = 32, .verbose = 0});
    fit1h.push_back(seconds_since(t0));
    std::printf("run %d: hand %.3f s  fit %.3f s  fit(one-hot) %.3f s  (hand loss %.4f acc %.4f)\n", r + 1,
                hand.back(), fit.back(), fit1h.back(), loss_sum / n, double(correct) / n);
  }
  double h = median(hand), f = median(fit), f1 = median(fit1h);
  std::printf("threads %d, median of %d epochs:\n", get_num_threads(), repeats);
  std::printf("  hand-written loop      %.3f s/epoch  %8.0f samples/s\n", h, n / h);
  std::printf("  keras fit (sparse)     %.3f s/epoch  %8.0f samples/s  fit/hand samples/s = %.3f\n", f, n / f,
              h / f);
  std::printf("  keras fit (one-hot)    %.3f s/epoch  %8.0f samples/s  fit/hand samples/s = %.3f\n", f1,
              n / f1, h / f1);
}
