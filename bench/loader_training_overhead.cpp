// Does the DataLoader keep up with training? One epoch of the seed MLP (batch 32, Adam) fed by
// DataLoader(FashionMNIST + ToTensor + Normalize, shuffle, num_workers) against the same epoch fed
// from batches prebuilt in memory. DESIGN.md's criterion: <= 5% slower. Median of 5 epochs each.
//   ./build-bench/bench/loader_training_overhead [threads] [num_workers] [repeats]
// Prints wall-time medians and, less sensitive to other processes, CPU-time medians.
// (repeats 1 under callgrind: compare the inclusive counts of the two train_epoch instances.)
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/transforms.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

using namespace nabla;

struct Mlp : nn::Module {
  nn::Linear fc1{784, 64}, fc2{64, 64}, fc3{64, 10};
  Mlp() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  Tensor forward(Tensor x) override { return fc3(F::relu(fc2(F::relu(fc1(x.flatten(1)))))); }
};

double now(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// One epoch's wall time, the training thread's CPU time and the whole process's CPU time (training
// thread + workers). On a shared machine the wall time also measures the neighbours; the CPU times
// say what the loader itself costs each thread.
struct EpochTimes {
  double wall, thread_cpu, process_cpu;
};

template <typename Batches>
EpochTimes train_epoch(Mlp& model, optim::Adam& opt, Batches&& batches) {
  nn::CrossEntropyLoss criterion;
  double w = now(CLOCK_MONOTONIC), t = now(CLOCK_THREAD_CPUTIME_ID), p = now(CLOCK_PROCESS_CPUTIME_ID);
  for (auto& [x, y] : batches) {
    opt.zero_grad();
    criterion(model(x), y).backward();
    opt.step();
  }
  return {now(CLOCK_MONOTONIC) - w, now(CLOCK_THREAD_CPUTIME_ID) - t, now(CLOCK_PROCESS_CPUTIME_ID) - p};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 1);
  using namespace data::transforms;
  auto tf = Compose(ToTensor(), Normalize({0.2860}, {0.3530}));
  data::datasets::FashionMNIST ds(data::datasets::FashionMNIST::kDefaultRoot, true);
  int workers = argc > 2 ? std::atoi(argv[2]) : 1;
  data::DataLoader loader(ds, {.batch_size = 32,
                               .shuffle = true,
                               .num_workers = workers,
                               .seed = 1,
                               .transform = batch_transform(tf)});
  std::vector<data::Example> prebuilt;
  for (auto& b : loader) prebuilt.push_back(b);

  Mlp model;
  optim::Adam opt(model.parameters(), {.lr = 0.001});
  std::vector<EpochTimes> with_loader, from_memory;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  for (int r = 0; r < repeats; ++r) {
    from_memory.push_back(train_epoch(model, opt, prebuilt));
    with_loader.push_back(train_epoch(model, opt, loader));
  }
  // What one epoch of batches costs on the calling thread (0 workers, no training): the inline
  // loader's share of an epoch, and the CPU time a worker spends beside the training thread.
  data::DataLoader inline_loader(
      ds, {.batch_size = 32, .shuffle = true, .seed = 1, .transform = batch_transform(tf)});
  std::vector<double> batches_alone;
  for (int r = 0; r < repeats; ++r) {
    double t0 = now(CLOCK_THREAD_CPUTIME_ID);
    int64_t n = 0;
    for (auto& b : inline_loader) n += b.data.size(0);
    batches_alone.push_back(now(CLOCK_THREAD_CPUTIME_ID) - t0);
    if (n != 60000) std::abort();
  }
  auto med = [](const std::vector<EpochTimes>& v, double EpochTimes::*field) {
    std::vector<double> x;
    for (const EpochTimes& e : v) x.push_back(e.*field);
    return median(x);
  };
  double a = med(from_memory, &EpochTimes::wall), b = med(with_loader, &EpochTimes::wall);
  double at = med(from_memory, &EpochTimes::thread_cpu), bt = med(with_loader, &EpochTimes::thread_cpu);
  double ap = med(from_memory, &EpochTimes::process_cpu), bp = med(with_loader, &EpochTimes::process_cpu);
  double c = median(batches_alone);
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = -1;
  std::printf(
      "threads %d workers %d  wall s/epoch, prebuilt -> DataLoader: %.3f -> %.3f (%.0f -> %.0f samples/s, "
      "%+.1f%%)\n"
      "  CPU s/epoch, prebuilt -> DataLoader: training thread %.3f -> %.3f (%+.1f%%), process %.3f -> %.3f "
      "(%+.1f%%)\n"
      "  batches alone (inline, no training): %.1f ms CPU/epoch = %.1f%% of the prebuilt epoch's "
      "training-thread CPU;  load average %.2f\n",
      get_num_threads(), workers, a, b, 60000 / a, 60000 / b, 100 * (b / a - 1), at, bt, 100 * (bt / at - 1),
      ap, bp, 100 * (bp / ap - 1), 1e3 * c, 100 * c / at, load[0]);
}
