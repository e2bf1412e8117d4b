// The seed CNN's convolution layers and training step, nabla against libtorch in one process:
// conv3x3(32, pad 1)-ReLU-maxpool2-conv3x3(64, pad 1)-ReLU-maxpool2-FC128-ReLU-FC10, batch 64, Adam 1e-3.
// Prints per-layer forward+backward times and training-step throughput (samples/s) for both sides
// and their ratio, medians of `reps` runs, the two sides alternating so they see the same load.
//   ./build-bench/bench/conv_bench [threads=1] [reps=5] [batches=50] [--cpu-time]
//   ./build-bench/bench/conv_bench --nabla-steps N [threads]   (nabla only, e.g. under callgrind)
#include <nabla/creation.h>
#include <nabla/nn.h>
#include <nabla/ops.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <vector>

#include "bench_util.h"

namespace nb = nabla;

namespace {

// Wall seconds of f(), or process CPU seconds with --cpu-time (steadier on a loaded machine at
// 1 thread, where time slices taken by other processes do not count).
bool g_cpu_time = false;
double cpu_now() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
double seconds(const std::function<void()>& f) {
  if (g_cpu_time) {
    double c0 = cpu_now();
    f();
    return cpu_now() - c0;
  }
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

nb::nn::Sequential nabla_cnn() {
  return nb::nn::Sequential{
      nb::nn::Conv2d({.in = 1, .out = 32, .kernel = 3, .padding = 1}),
      nb::nn::ReLU(),
      nb::nn::MaxPool2d(2),
      nb::nn::Conv2d({.in = 32, .out = 64, .kernel = 3, .padding = 1}),
      nb::nn::ReLU(),
      nb::nn::MaxPool2d(2),
      nb::nn::Flatten(),
      nb::nn::Linear(64 * 7 * 7, 128),
      nb::nn::ReLU(),
      nb::nn::Linear(128, 10),
  };
}
torch::nn::Sequential torch_cnn() {
  namespace tn = torch::nn;
  return tn::Sequential(
      tn::Conv2d(tn::Conv2dOptions(1, 32, 3).padding(1)), tn::ReLU(), tn::MaxPool2d(tn::MaxPool2dOptions(2)),
      tn::Conv2d(tn::Conv2dOptions(32, 64, 3).padding(1)), tn::ReLU(), tn::MaxPool2d(tn::MaxPool2dOptions(2)),
      tn::Flatten(), tn::Linear(64 * 7 * 7, 128), tn::ReLU(), tn::Linear(128, 10));
}

// Training steps over prebuilt batches (the data loader is not what is measured here).
struct NablaSide {
  nb::nn::Sequential model = nabla_cnn();
  nb::optim::Adam opt{model->parameters(), {.lr = 0.001}};
  nb::nn::CrossEntropyLoss criterion;
  std::vector<std::pair<nb::Tensor, nb::Tensor>> batches;
  explicit NablaSide(int nbatch) {
    for (int i = 0; i < nbatch; ++i)
      batches.emplace_back(nb::rand({64, 1, 28, 28}), nb::randint(0, 10, {64}));
  }
  void epoch() {
    for (auto& [x, y] : batches) {
      opt.zero_grad();
      criterion(model(x), y).backward();
      opt.step();
    }
  }
};
struct TorchSide {
  torch::nn::Sequential model = torch_cnn();
  torch::optim::Adam opt{model->parameters(), torch::optim::AdamOptions(0.001)};
  std::vector<std::pair<torch::Tensor, torch::Tensor>> batches;
  explicit TorchSide(int nbatch) {
    for (int i = 0; i < nbatch; ++i)
      batches.emplace_back(torch::rand({64, 1, 28, 28}), torch::randint(0, 10, {64}, torch::kLong));
  }
  void epoch() {
    for (auto& [x, y] : batches) {
      opt.zero_grad();
      torch::nn::functional::cross_entropy(model->forward(x), y).backward();
      opt.step();
    }
  }
};

// One conv layer (+ReLU+pool as in the model) forward and backward, per side.
struct Layer {
  const char* name;
  int64_t cin, cout, hw;
};

void layer_table(int reps) {
  const Layer layers[] = {{"conv1 1->32 28x28", 1, 32, 28}, {"conv2 32->64 14x14", 32, 64, 14}};
  std::printf("%-20s %12s %12s %8s   (fwd+bwd of conv+relu+pool, batch 64, median us)\n", "layer", "nabla",
              "libtorch", "ratio");
  for (const Layer& L : layers) {
    auto x = nb::rand({64, L.cin, L.hw, L.hw}), w = (nb::rand({L.cout, L.cin, 3, 3}) - 0.5).requires_grad_(),
         b = nb::zeros({L.cout}).requires_grad_();
    auto tx = torch::rand({64, L.cin, L.hw, L.hw}).requires_grad_(L.cin > 1),
         tw = (torch::rand({L.cout, L.cin, 3, 3}) - 0.5).requires_grad_(),
         tb = torch::zeros({L.cout}).requires_grad_();
    if (L.cin > 1) x.requires_grad_();
    const int iters = 20;
    std::vector<double> tn, tt;
    for (int r = 0; r < reps; ++r) {
      tn.push_back(seconds([&] {
        for (int i = 0; i < iters; ++i) {
          auto y = nb::max_pool2d(nb::relu(nb::conv2d(x, w, b, {.padding = {1, 1}})));
          y.sum().backward();
        }
      }));
      tt.push_back(seconds([&] {
        for (int i = 0; i < iters; ++i) {
          auto y = torch::max_pool2d(torch::relu(torch::conv2d(tx, tw, tb, 1, 1)), 2);
          y.sum().backward();
        }
      }));
    }
    double a = median(tn) / iters * 1e6, c = median(tt) / iters * 1e6;
    std::printf("%-20s %12.0f %12.0f %8.2f\n", L.name, a, c, c / a);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--nabla-steps") == 0) {
    int steps = argc > 2 ? std::atoi(argv[2]) : 10;
    nb::set_num_threads(argc > 3 ? std::atoi(argv[3]) : 1);
    NablaSide n(steps);
    n.epoch();
    return 0;
  }
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  int nbatch = argc > 3 ? std::atoi(argv[3]) : 50;
  g_cpu_time = argc > 4 && std::strcmp(argv[4], "--cpu-time") == 0;
  bench::print_blas_info();
  bench::use_nabla_threads(threads);
  bench::use_torch_threads(threads);
  torch::manual_seed(0);
  nb::manual_seed(0);
  std::printf("threads %d, reps %d, %d batches of 64 per run, %s\n", threads, reps, nbatch,
              g_cpu_time ? "process CPU time" : "wall time");
  layer_table(reps);

  NablaSide n(nbatch);
  TorchSide t(nbatch);
  n.epoch();  // warm-up: allocator caches, first-touch pages
  t.epoch();
  std::vector<double> tn, tt;
  for (int r = 0; r < reps; ++r) {
    tn.push_back(seconds([&] { n.epoch(); }));
    tt.push_back(seconds([&] { t.epoch(); }));
  }
  double samples = 64.0 * nbatch, a = samples / median(tn), c = samples / median(tt);
  std::printf("training step: nabla %.0f samples/s, libtorch %.0f samples/s, nabla/libtorch %.2f\n", a, c,
              a / c);
}
