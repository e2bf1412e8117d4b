// nabla only (no libtorch, so it starts fast under valgrind): N training steps of the seed CNN on
// random batches of 64, for instruction counts of one step:
//   valgrind --tool=callgrind --toggle-collect='*run_steps*' ./build-bench/bench/cnn_steps 5 [threads]
// Prints samples/s of the steps after the first (wall clock and process CPU time; the CPU-time
// figure is steadier on a loaded machine at 1 thread). bench/conv_bench compares with libtorch.
//   ./build-bench/bench/cnn_steps N threads ab   alternates the direct conv kernels on and off,
//                                                 7 runs each, and prints the medians and ratio.
#include <nabla/creation.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/seed_models.h"

// Internal switch (src/ops/conv/conv.h), declared here so the A/B runs share one process.
namespace nabla::ops::conv_cpu {
void set_direct_conv_enabled(bool on);
}

using namespace nabla;

double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

__attribute__((noinline)) void run_steps(nn::Sequential& model, optim::Adam& opt,
                                         const std::vector<std::pair<Tensor, Tensor>>& batches) {
  nn::CrossEntropyLoss criterion;
  for (auto& [x, y] : batches) {
    opt.zero_grad();
    criterion(model(x), y).backward();
    opt.step();
  }
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 10;
  set_num_threads(argc > 2 ? std::atoi(argv[2]) : 1);
  manual_seed(0);
  nn::Sequential model = make_seed_cnn();
  optim::Adam opt(model->parameters(), {.lr = 0.001});
  std::vector<std::pair<Tensor, Tensor>> batches;
  for (int i = 0; i < steps; ++i) batches.emplace_back(rand({64, 1, 28, 28}), randint(0, 10, {64}));
  run_steps(model, opt, {batches.begin(), batches.begin() + 1});  // warm-up
  auto timed = [&](double& cpu) {
    double c0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    run_steps(model, opt, batches);
    cpu = cpu_seconds() - c0;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double cpu = 0;
  if (argc > 3 && std::strcmp(argv[3], "ab") == 0) {
    std::vector<double> wall[2], cpus[2];
    for (int r = 0; r < 7; ++r)
      for (int on = 1; on >= 0; --on) {
        ops::conv_cpu::set_direct_conv_enabled(on);
        wall[on].push_back(timed(cpu));
        cpus[on].push_back(cpu);
      }
    auto med = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    double n = 64.0 * steps;
    std::printf(
        "direct: %.0f samples/s wall, %.0f per CPU-s | im2col: %.0f wall, %.0f per CPU-s | "
        "ratio wall %.2f, CPU %.2f\n",
        n / med(wall[1]), n / med(cpus[1]), n / med(wall[0]), n / med(cpus[0]), med(wall[0]) / med(wall[1]),
        med(cpus[0]) / med(cpus[1]));
    return 0;
  }
  double s = timed(cpu);
  std::printf("%d steps: %.0f samples/s wall, %.0f samples per CPU-second\n", steps, 64.0 * steps / s,
              64.0 * steps / cpu);
}
