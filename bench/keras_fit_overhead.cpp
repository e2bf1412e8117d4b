// What does the Keras API cost? One epoch of the 784-64-64-10 MLP on Fashion-MNIST
// (batch 32, Adam, shuffled, 1 loader worker), compared like for like (DESIGN.md) in one process:
//   hand    - the PyTorch-style eager loop of examples/pytorch_style.cpp (DataLoader over a
//             TensorDataset, zero_grad / forward / CrossEntropyLoss / backward / step, loss.item()
//             and the count of correct predictions per batch, as that example does);
//   fit_e   - keras Sequential(Dense relu, Dense relu, Dense softmax), sparse_categorical_crossentropy,
//             metrics {"accuracy"}, compile(run_eagerly = true), fit(epochs = 1, verbose = 0);
//   hand_c  - the same hand loop with the step compiled: jit::compile_train_step(net, loss, opt),
//             step({x, y}) -> {loss, logits}, loss.item() and correct count per batch;
//   fit_c   - the same keras model compiled by default (graph-mode train step).
// fit_e / hand is the eager Keras overhead, fit_c / hand_c the compiled one.
// Runs are interleaved `repeats` times; medians of wall time and of process CPU time (less
// disturbed by other processes on a shared machine) and their ratios are printed.
//   ./build-bench/bench/keras_fit_overhead [threads] [repeats] [train_limit] [mode]
// mode "all" (default), or "hand" / "fit_e" / "hand_c" / "fit_c" / "none" to run one variant once,
// for instruction counts: valgrind --tool=callgrind ./keras_fit_overhead 1 1 6000 fit_c (minus "none").
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/tensor_dataset.h>
#include <nabla/jit.h>
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
  manual_seed(1);
  SimpleNet net_c;
  optim::Adam opt_c(net_c.parameters(), {.lr = 0.001, .eps = 1e-7});
  nn::CrossEntropyLoss criterion;
  auto step = jit::compile_train_step(
      net_c, [&](const Tensor& out, const Tensor& t) { return criterion(out, t); }, opt_c);
  data::DataLoader loader(data::TensorDataset(x, y),
                          {.batch_size = 32, .shuffle = true, .num_workers = 1, .seed = 1});

  using namespace keras;
  auto make = [] {
    return std::make_unique<Sequential>(
        std::initializer_list<LayerRef>{layers::Dense(64, "relu", {.input_shape = {784}}),
                                        layers::Dense(64, "relu"), layers::Dense(10, "softmax")});
  };
  auto eager = make();
  eager->compile({.optimizer = "adam",
                  .loss = "sparse_categorical_crossentropy",
                  .metrics = {"accuracy"},
                  .run_eagerly = true});
  auto compiled = make();
  compiled->compile(
      {.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});

  auto run_hand = [&](bool graph) {
    double loss_sum = 0;
    int64_t correct = 0;
    for (auto& [data, target] : loader) {
      Tensor loss, output;
      if (graph) {
        auto r = step(std::vector<Tensor>{data, target});
        loss = r[0], output = r[1];
      } else {
        opt.zero_grad();
        output = net(data);
        loss = criterion(output, target);
        loss.backward();
        opt.step();
      }
      loss_sum += loss.item<double>() * data.size(0);
      correct += eq(output.argmax(1), target).sum().item<int64_t>();
    }
    return std::pair{loss_sum / n, double(correct) / n};
  };
  auto fit_e = [&] { eager->fit(x, y, {.epochs = 1, .batch_size = 32, .verbose = 0}); };
  auto fit_c = [&] { compiled->fit(x, y, {.epochs = 1, .batch_size = 32, .verbose = 0}); };
  if (mode != "all") {
    if (mode == "hand") run_hand(false);
    if (mode == "hand_c") run_hand(true);
    if (mode == "fit_e") fit_e();
    if (mode == "fit_c") fit_c();
    return 0;
  }
  const char* names[4] = {"hand (eager loop)", "keras fit run_eagerly", "hand (compiled step)",
                          "keras fit (default)"};
  std::vector<double> wall[4], cpu[4];
  auto timed = [&](int k, auto&& fn) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    fn();
    cpu[k].push_back(cpu_seconds() - c0);
    wall[k].push_back(seconds_since(t0));
  };
  for (int r = 0; r < repeats; ++r) {
    std::pair<double, double> h, hc;
    timed(0, [&] { h = run_hand(false); });
    timed(1, fit_e);
    timed(2, [&] { hc = run_hand(true); });
    timed(3, fit_c);
    std::printf(
        "run %d: wall %.3f %.3f %.3f %.3f s | cpu %.3f %.3f %.3f %.3f s (hand loss %.4f acc %.4f; compiled "
        "%.4f %.4f)\n",
        r + 1, wall[0].back(), wall[1].back(), wall[2].back(), wall[3].back(), cpu[0].back(), cpu[1].back(),
        cpu[2].back(), cpu[3].back(), h.first, h.second, hc.first, hc.second);
  }
  double mw[4], mc[4];
  for (int k = 0; k < 4; ++k) mw[k] = median(wall[k]), mc[k] = median(cpu[k]);
  std::printf("threads %d, %lld samples, median of %d epochs (wall | process CPU):\n", get_num_threads(),
              static_cast<long long>(x.size(0)), repeats);
  for (int k = 0; k < 4; ++k)
    std::printf("  %-24s %.3f s %8.0f samples/s | %.3f s %8.0f samples/s\n", names[k], mw[k], n / mw[k],
                mc[k], n / mc[k]);
  std::printf("  eager:    fit/hand = %.3f | %.3f (speed ratio, 1 = no Keras overhead)\n", mw[0] / mw[1],
              mc[0] / mc[1]);
  std::printf("  compiled: fit/hand = %.3f | %.3f\n", mw[2] / mw[3], mc[2] / mc[3]);
  std::printf("  compiled vs eager: hand %.2fx | %.2fx, fit %.2fx | %.2fx\n", mw[0] / mw[2], mc[0] / mc[2],
              mw[1] / mw[3], mc[1] / mc[3]);
}
