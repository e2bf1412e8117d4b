// Graph mode vs eager, in one process (nabla only). For the seed MLP (784-64-64-10, batch 32, Adam)
// and the seed CNN (examples/cnn.cpp, batch 64, Adam): training time over the same batches eagerly
// and with jit::compile_train_step (median of 5 repetitions, alternating), compile time, and the
// peak memory of one CNN training step. Synthetic data of Fashion-MNIST's shapes (time does not
// depend on the values). Issue 6 targets: MLP >= 1.5x, CNN >= 1.2x, peak memory <= 0.7x, compile
// < 100 ms.
// Each is timed at 1 and 2 threads in the same run (interleaved): eager, compiled as one
// whole-batch graph (batch_shards = 1) and compiled with the data-parallel schedule (the
// default); the speed-up is judged best-of-each (eager's best thread count vs compiled's best).
//   ./build-bench/bench/graph_mode_bench [threads] [mlp_batches] [cnn_batches]
#include <nabla/creation.h>
#include <nabla/jit.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>

using namespace nabla;

namespace {

struct Mlp : nn::Module {
  nn::Linear fc1{784, 64}, fc2{64, 64}, fc3{64, 10};
  Mlp() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  Tensor forward(Tensor x) override { return fc3(F::relu(fc2(F::relu(fc1(x))))); }
};

nn::Sequential make_cnn() {
  return nn::Sequential{nn::Conv2d({.in = 1, .out = 32, .kernel = 3, .padding = 1}),
                        nn::ReLU(),
                        nn::MaxPool2d(2),
                        nn::Conv2d({.in = 32, .out = 64, .kernel = 3, .padding = 1}),
                        nn::ReLU(),
                        nn::MaxPool2d(2),
                        nn::Flatten(),
                        nn::Linear(64 * 7 * 7, 128),
                        nn::ReLU(),
                        nn::Linear(128, 10)};
}

using Batches = std::vector<std::pair<Tensor, Tensor>>;

Batches make_batches(int n, const Shape& x_shape) {
  Batches b;
  for (int k = 0; k < n; ++k) b.emplace_back(nabla::rand(x_shape), randint(0, 10, {x_shape[0]}));
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Tensor loss_of(const Tensor& out, const Tensor& y) { return F::cross_entropy(out, y); }

// Seconds per epoch (median of 5) of each way of training, at 1 and 2 threads.
constexpr int kWays =
    4;  // eager, then compiled with batch_shards = 1 (whole batch), 2, 0 (auto: the default)
const char* kWayName[kWays] = {"eager", "compiled whole-batch", "compiled 2 shards", "compiled default"};
const int kShards[kWays] = {0, 1, 2, 0};

struct Result {
  double s[kWays][2];  // [way][threads - 1]
  double compile_ms, optimize_ms, shard_build_ms;
  int default_shards;
};

Result compare(nn::Module& model, const Batches& batches) {
  std::vector<std::unique_ptr<optim::Adam>> opts;
  for (int w = 0; w < kWays; ++w)
    opts.push_back(std::make_unique<optim::Adam>(model.parameters(), optim::AdamOptions{.lr = 1e-3}));
  std::vector<jit::CompiledFunction> steps;
  for (int w = 1; w < kWays; ++w)
    steps.push_back(jit::compile_train_step(model, loss_of, *opts[w], {.batch_shards = kShards[w]}));
  for (int k = 0; k < 3; ++k)  // trace, retrace, first run (builds the shards)
    for (auto& st : steps) st(batches[0].first, batches[0].second);
  Result r{};
  r.compile_ms = steps[0].last_graph()->compile_ms();  // traced first: the cold figure
  r.optimize_ms = steps[0].last_graph()->optimize_ms();
  r.shard_build_ms = steps[1].stats().shard_build_ms;
  r.default_shards = steps[2].stats().shards;
  auto epoch = [&](int w) {
    auto t0 = std::chrono::steady_clock::now();
    for (auto& [x, y] : batches) {
      if (w == 0) {
        opts[0]->zero_grad();
        loss_of(model(x), y).backward();
        opts[0]->step();
      } else {
        steps[w - 1](x, y);
      }
    }
    return seconds_since(t0);
  };
  epoch(0);  // warm the allocator cache
  std::vector<double> t[kWays][2];
  for (int rep = 0; rep < 5; ++rep)
    for (int th = 0; th < 2; ++th) {  // interleaved, so that load changes hit every column alike
      set_num_threads(th + 1);
      for (int w = 0; w < kWays; ++w) t[w][th].push_back(epoch(w));
    }
  for (int w = 0; w < kWays; ++w)
    for (int th = 0; th < 2; ++th) r.s[w][th] = median(t[w][th]);
  return r;
}

void print(const char* name, int batches, int batch, const Result& r, double target) {
  std::printf("%s  %d batches of %d, seconds per epoch (median of 5; the default ran %d shard%s):\n", name,
              batches, batch, r.default_shards, r.default_shards > 1 ? "s" : "");
  for (int th = 0; th < 2; ++th) {
    std::printf("  %d thread%s:", th + 1, th ? "s" : " ");
    for (int w = 0; w < kWays; ++w) std::printf("  %s %.3f", kWayName[w], r.s[w][th]);
    std::printf("  -> default %.2fx eager\n", r.s[0][th] / r.s[3][th]);
  }
  auto best = [&](int w) { return std::min(r.s[w][0], r.s[w][1]); };
  auto best_th = [&](int w) { return r.s[w][0] <= r.s[w][1] ? 1 : 2; };
  std::printf("  best of each vs eager %.3f (%d thr):", best(0), best_th(0));
  for (int w = 1; w < kWays; ++w)
    std::printf("  %s %.2fx (%d thr)", kWayName[w], best(0) / best(w), best_th(w));
  std::printf("  (target >= %.1fx)\n", target);
  std::printf("  compile %.1f ms (of which passes + plan %.1f ms) + shard build %.1f ms (target < 100 ms)\n",
              r.compile_ms, r.optimize_ms, r.shard_build_ms);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::max(1, std::atoi(argv[1])) : 1;   // for the memory figure
  int mlp_batches = std::max(1, argc > 2 ? std::atoi(argv[2]) : 1875);  // one Fashion-MNIST epoch at batch 32
  int cnn_batches = std::max(1, argc > 3 ? std::atoi(argv[3]) : 40);
  manual_seed(1);

  Mlp mlp;
  Result m = compare(mlp, make_batches(mlp_batches, {32, 784}));
  print("MLP", mlp_batches, 32, m, 1.5);

  auto cnn = make_cnn();
  Batches cb = make_batches(cnn_batches, {64, 1, 28, 28});
  Result c = compare(*cnn.ptr(), cb);
  print("CNN", cnn_batches, 64, c, 1.2);

  // Peak memory of one training step above what is live before it (parameters, optimizer state,
  // batch). The compiled step's arenas are allocated once, before the step: they are added to the
  // compiled figure so that both sides count every intermediate byte. The data-parallel schedule
  // holds one shard arena per lane (shards running at the same time): at 1 thread one, at 2 two.
  for (int t = 1; t <= 2; ++t) {
    set_num_threads(t);
    optim::Adam opt(cnn->parameters(), {.lr = 1e-3});
    auto& [x, y] = cb[0];
    for (int k = 0; k < 2; ++k) {  // create the optimizer state first
      opt.zero_grad();
      loss_of(cnn(x), y).backward();
      opt.step();
    }
    opt.zero_grad();
    size_t live0 = memory_stats().live_bytes;
    reset_memory_stats();
    loss_of(cnn(x), y).backward();
    opt.step();
    size_t eager_peak = memory_stats().peak_bytes - live0;
    opt.zero_grad();

    optim::Adam copt(cnn->parameters(), {.lr = 1e-3});
    auto step = jit::compile_train_step(*cnn.ptr(), loss_of, copt);
    for (int k = 0; k < 4; ++k) step(x, y);  // trace, retrace, build the shards, make the lanes
    size_t live1 = memory_stats().live_bytes;
    reset_memory_stats();
    step(x, y);
    size_t transient = memory_stats().peak_bytes - live1;
    // Sharded: the lanes' shard arenas + the update graph's + the reduced gradients (the
    // whole-batch graph's arena is freed once the schedule runs).
    const auto st = step.stats();
    size_t arena = st.shards > 1 ? static_cast<size_t>(st.shard_arena_bytes)
                                 : static_cast<size_t>(step.last_graph()->arena_bytes());
    size_t compiled_peak = arena + transient;
    std::printf(
        "CNN step peak memory, %d thread%s: eager %.2f MB  compiled (%d shards) %.2f MB (arenas %.2f MB "
        "+ %.2f MB in-step; whole-batch graph alone %.2f MB = %.2fx, planned from %.2f MB) ratio %.2f "
        "(target <= 0.7)\n",
        t, t > 1 ? "s" : "", eager_peak / 1e6, st.shards, compiled_peak / 1e6, arena / 1e6, transient / 1e6,
        step.last_graph()->arena_bytes() / 1e6, double(step.last_graph()->arena_bytes()) / double(eager_peak),
        step.last_graph()->unplanned_bytes() / 1e6, double(compiled_peak) / double(eager_peak));
  }
  set_num_threads(threads);
  return 0;
}

// Closing note (session 6, 2026-11-26 15:29 UTC, 2-vCPU KVM Xeon, machine otherwise idle, two runs;
// ratios only, the host's speed drifts by ~20% over a day):
//   MLP best-of-each vs eager (eager best at 2 threads, 0.158-0.176 s): default (whole-batch graph)
//     1.29-1.34x at 2 threads; 2 shards 0.89-0.91x. Target 1.5x: not met.
//   CNN best-of-each vs eager (2 threads, 0.321-0.326 s): default (whole-batch graph, since the
//     arena fell to 3.7x the parameters) 1.43-1.45x, 2 shards 1.52-1.57x, whole-batch 1.46-1.47x.
//     Target 1.2x: met. The winners-only conv backward (pool_grad_conv2d_backward) did it.
//   Peak memory of a CNN step: 0.33x eager at 1 and at 2 threads (whole-batch graph). Met.
//   Compile: MLP 0.7 ms + 1.8 ms shard build, CNN 9.5 ms + 24.0 ms (target < 100 ms). Met.
// Session 5 (13:10 UTC, same machine): MLP 1.28-1.32x, CNN default (2 shards) 1.12-1.16x, CNN step
// memory 0.43x (1 thread) / 0.67x (2 threads).
