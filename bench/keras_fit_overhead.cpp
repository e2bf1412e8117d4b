// What does the Keras API cost? One epoch of the 784-64-64-10 MLP on Fashion-MNIST
// (batch 32, Adam, shuffled, 1 loader worker) trained three ways in the same process:
//   hand  - the PyTorch-style loop of examples/pytorch_style.cpp (DataLoader over a TensorDataset,
//           zero_grad / forward / CrossEntropyLoss / backward / step, loss.item() and the count of
//           correct predictions per batch, as that example does);
//   fit   - keras Sequential(Dense relu, Dense relu, Dense softmax), sparse_categorical_crossentropy,
//           metrics {"accuracy"}, fit(epochs = 1, verbose = 0) (eager: run_eagerly);
//   fit1h - the exact compile: categorical_crossentropy on one-hot targets.
// Runs are interleaved (hand, fit, fit1h) `repeats` times; medians of wall time and of process CPU
// time (less disturbed by other processes on a shared machine) and their ratios are printed.
//   ./build-bench/bench/keras_fit_overhead [threads] [repeats] [train_limit] [mode]
// mode "all" (default), or "hand" / "fit" / "fit1h" / "none" to run one variant once, for
// instruction counts: valgrind --tool=callgrind ./keras_fit_overhead 1 1 6000 fit  (minus "none").
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/tensor_dataset.h>
#include <nabla/keras.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

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

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 1);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
  const int64_t limit = argc > 3 ? std::atoll(argv[3]) : 0;
  const std::string mode = argc > 4 ? argv[4] : "all";
  data::datasets::FashionMNIST ds(data::datasets::FashionMNIST::kDefaultRoot, true);
  Tensor x = (ds.images().to(kFloat32).reshape({-1, 784}) / 255.0).contiguous();
  Tensor y = ds.labels().contiguous();
  if (limit > 0) x = x.narrow(0, 0, limit).contiguous(), y = y.narrow(0, 0, limit).contiguous();
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

  std::vector<double> hand, fit, fit1h, hand_cpu, fit_cpu, fit1h_cpu;
  auto run_hand = [&] {
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
    return std::pair{loss_sum / n, double(correct) / n};
  };
  if (mode != "all") {
    if (mode == "hand") run_hand();
    if (mode == "fit") sparse->fit(x, y, {.epochs = 1, .batch_size = 32, .verbose = 0});
    if (mode == "fit1h") onehot->fit(x, y1h, {.epochs = 1, .batch_size = 32, .verbose = 0});
    return 0;
  }
  auto timed = [&](std::vector<double>& wall, std::vector<double>& cpu, auto&& fn) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    fn();
    cpu.push_back(cpu_seconds() - c0);
    wall.push_back(seconds_since(t0));
  };
  for (int r = 0; r < repeats; ++r) {
    std::pair<double, double> h;
    timed(hand, hand_cpu, [&] { h = run_hand(); });
    timed(fit, fit_cpu, [&] { sparse->fit(x, y, {.epochs = 1, .batch_size = 32, .verbose = 0}); });
    timed(fit1h, fit1h_cpu, [&] { onehot->fit(x, y1h, {.epochs = 1, .batch_size = 32, .verbose = 0}); });
    std::printf(
        "run %d: wall hand %.3f s  fit %.3f s  fit(one-hot) %.3f s | cpu %.3f %.3f %.3f  (hand loss %.4f acc "
        "%.4f)\n",
        r + 1, hand.back(), fit.back(), fit1h.back(), hand_cpu.back(), fit_cpu.back(), fit1h_cpu.back(),
        h.first, h.second);
  }
  for (auto* v : {&hand, &fit, &fit1h, &hand_cpu, &fit_cpu, &fit1h_cpu}) *v = {median(*v)};
  std::printf("threads %d, %lld samples, median of %d epochs (wall | process CPU):\n", get_num_threads(),
              static_cast<long long>(x.size(0)), repeats);
  std::printf("  hand-written loop    %.3f s %8.0f samples/s | %.3f s %8.0f samples/s\n", hand[0],
              n / hand[0], hand_cpu[0], n / hand_cpu[0]);
  std::printf(
      "  keras fit (sparse)   %.3f s %8.0f samples/s | %.3f s %8.0f samples/s   fit/hand = %.3f | %.3f\n",
      fit[0], n / fit[0], fit_cpu[0], n / fit_cpu[0], hand[0] / fit[0], hand_cpu[0] / fit_cpu[0]);
  std::printf(
      "  keras fit (one-hot)  %.3f s %8.0f samples/s | %.3f s %8.0f samples/s   fit/hand = %.3f | %.3f\n",
      fit1h[0], n / fit1h[0], fit1h_cpu[0], n / fit1h_cpu[0], hand[0] / fit1h[0], hand_cpu[0] / fit1h_cpu[0]);
}
