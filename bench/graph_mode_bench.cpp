// Graph mode vs eager, in one process (nabla only). For the seed MLP (784-64-64-10, batch 32, Adam)
// and the seed CNN (examples/cnn.cpp, batch 64, Adam): training time over the same batches eagerly
// and with jit::compile_train_step (median of 5 repetitions, alternating), compile time, and the
// peak memory of one CNN training step. Synthetic data of Fashion-MNIST's shapes (time does not
// depend on the values). Issue 6 targets: MLP >= 1.5x, CNN >= 1.2x, peak memory <= 0.7x, compile
// < 100 ms.
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

struct Result {
  double eager_s, compiled_s, compile_ms, optimize_ms;
};

Result compare(nn::Module& model, const Batches& batches) {
  optim::Adam eager_opt(model.parameters(), {.lr = 1e-3});
  optim::Adam compiled_opt(model.parameters(), {.lr = 1e-3});
  auto step = jit::compile_train_step(model, loss_of, compiled_opt);
  for (int k = 0; k < 3; ++k) step(batches[0].first, batches[0].second);  // trace, retrace, first run
  double compile_ms = step.last_graph()->compile_ms(), optimize_ms = step.last_graph()->optimize_ms();
  auto eager_epoch = [&] {
    auto t0 = std::chrono::steady_clock::now();
    for (auto& [x, y] : batches) {
      eager_opt.zero_grad();
      loss_of(model(x), y).backward();
      eager_opt.step();
    }
    return seconds_since(t0);
  };
  auto compiled_epoch = [&] {
    auto t0 = std::chrono::steady_clock::now();
    for (auto& [x, y] : batches) step(x, y);
    return seconds_since(t0);
  };
  eager_epoch();  // warm the allocator cache
  std::vector<double> e, c;
  for (int r = 0; r < 5; ++r) {
    e.push_back(eager_epoch());
    c.push_back(compiled_epoch());
  }
  return {median(e), median(c), compile_ms, optimize_ms};
}

}  // namespace

int main(int argc, char** argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 1);
  int mlp_batches = std::max(1, argc > 2 ? std::atoi(argv[2]) : 1875);  // one Fashion-MNIST epoch at batch 32
  int cnn_batches = std::max(1, argc > 3 ? std::atoi(argv[3]) : 40);
  manual_seed(1);

  Mlp mlp;
  Result m = compare(mlp, make_batches(mlp_batches, {32, 784}));
  std::printf(
      "MLP  %d batches of 32: eager %.3f s  compiled %.3f s  speed-up %.2fx (target >= 1.5x)  compile %.1f "
      "ms "
      "(of which passes + plan %.1f ms)\n",
      mlp_batches, m.eager_s, m.compiled_s, m.eager_s / m.compiled_s, m.compile_ms, m.optimize_ms);

  auto cnn = make_cnn();
  Batches cb = make_batches(cnn_batches, {64, 1, 28, 28});
  Result c = compare(*cnn.ptr(), cb);
  std::printf(
      "CNN  %d batches of 64: eager %.3f s  compiled %.3f s  speed-up %.2fx (target >= 1.2x)  compile %.1f "
      "ms "
      "(of which passes + plan %.1f ms)\n",
      cnn_batches, c.eager_s, c.compiled_s, c.eager_s / c.compiled_s, c.compile_ms, c.optimize_ms);

  // Peak memory of one training step above what is live before it (parameters, optimizer state,
  // batch). The compiled step's arena is allocated once, at compile time: it is added to the
  // compiled figure so that both sides count every intermediate byte.
  {
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
    for (int k = 0; k < 3; ++k) step(x, y);
    opt.zero_grad();
    size_t live1 = memory_stats().live_bytes;
    reset_memory_stats();
    step(x, y);
    size_t transient = memory_stats().peak_bytes - live1;
    size_t arena = static_cast<size_t>(step.last_graph()->arena_bytes());
    size_t compiled_peak = arena + transient;
    std::printf(
        "CNN step peak memory: eager %.2f MB  compiled %.2f MB (arena %.2f MB, planned from %.2f MB, "
        "+ %.2f MB in-step) ratio %.2f (target <= 0.7)\n",
        eager_peak / 1e6, compiled_peak / 1e6, arena / 1e6, step.last_graph()->unplanned_bytes() / 1e6,
        transient / 1e6, double(compiled_peak) / double(eager_peak));
  }
  return 0;
}
