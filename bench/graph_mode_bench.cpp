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
struct Result {
  double eager[2], whole[2], sharded[2];  // [threads - 1]; whole: compiled with batch_shards = 1
  double compile_ms, optimize_ms, shard_build_ms;
  int shards;
};

Result compare(nn::Module& model, const Batches& batches) {
  optim::Adam eager_opt(model.parameters(), {.lr = 1e-3});
  optim::Adam whole_opt(model.parameters(), {.lr = 1e-3});
  optim::Adam sharded_opt(model.parameters(), {.lr = 1e-3});
  auto whole = jit::compile_train_step(model, loss_of, whole_opt, {.batch_shards = 1});
  auto sharded = jit::compile_train_step(model, loss_of, sharded_opt);
  for (int k = 0; k < 3; ++k) {  // trace, retrace, first run (builds the shards)
    whole(batches[0].first, batches[0].second);
    sharded(batches[0].first, batches[0].second);
  }
  Result r{};
  r.compile_ms = sharded.last_graph()->compile_ms();
  r.optimize_ms = sharded.last_graph()->optimize_ms();
  r.shard_build_ms = sharded.stats().shard_build_ms;
  r.shards = sharded.stats().shards;
  auto eager_epoch = [&] {
    auto t0 = std::chrono::steady_clock::now();
    for (auto& [x, y] : batches) {
      eager_opt.zero_grad();
      loss_of(model(x), y).backward();
      eager_opt.step();
    }
    return seconds_since(t0);
  };
  auto compiled_epoch = [&](jit::CompiledFunction& step) {
    auto t0 = std::chrono::steady_clock::now();
    for (auto& [x, y] : batches) step(x, y);
    return seconds_since(t0);
  };
  eager_epoch();  // warm the allocator cache
  std::vector<double> e[2], w[2], c[2];
  for (int rep = 0; rep < 5; ++rep)
    for (int t = 0; t < 2; ++t) {  // interleaved, so that load changes hit every column alike
      set_num_threads(t + 1);
      e[t].push_back(eager_epoch());
      w[t].push_back(compiled_epoch(whole));
      c[t].push_back(compiled_epoch(sharded));
    }
  for (int t = 0; t < 2; ++t)
    r.eager[t] = median(e[t]), r.whole[t] = median(w[t]), r.sharded[t] = median(c[t]);
  return r;
}

void print(const char* name, int batches, int batch, const Result& r, double target) {
  std::printf("%s  %d batches of %d (%d shards), seconds per epoch (median of 5):\n", name, batches, batch,
              r.shards);
  for (int t = 0; t < 2; ++t)
    std::printf(
        "  %d thread%s: eager %.3f  compiled whole-batch %.3f  compiled sharded %.3f  -> %.2fx eager\n",
        t + 1, t ? "s" : " ", r.eager[t], r.whole[t], r.sharded[t], r.eager[t] / r.sharded[t]);
  double best_eager = std::min(r.eager[0], r.eager[1]), best_compiled = std::min(r.sharded[0], r.sharded[1]);
  std::printf(
      "  best of each: eager %.3f (%d thr)  compiled %.3f (%d thr)  speed-up %.2fx (target >= %.1fx)\n",
      best_eager, r.eager[0] <= r.eager[1] ? 1 : 2, best_compiled, r.sharded[0] <= r.sharded[1] ? 1 : 2,
      best_eager / best_compiled, target);
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
