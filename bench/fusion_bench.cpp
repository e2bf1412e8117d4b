// Elementwise loop fusion in graph mode (nabla only): the same function eager vs compiled, where the
// compiled graph runs each elementwise chain as one fused_elementwise loop.
//   1. SiLU's gradient g*s + g*x*s*(1-s), s = sigmoid(x), on 1M floats (4 MiB per tensor: more than
//      L2, so each eager op streams memory once; fused, the chain streams it once in all).
//   2. A training step of an MLP with SiLU (784-256-256-10, batch 64, Adam): its backward holds
//      one six-op chain per SiLU.
// Medians of 7 repetitions, alternating sides.
//   ./build-bench/bench/fusion_bench [threads=1]
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double seconds(const std::function<void()>& fn, int reps) {
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

void compare(const char* what, const std::function<void()>& eager, const std::function<void()>& compiled,
             int reps) {
  eager();
  compiled();
  std::vector<double> e, c;
  for (int k = 0; k < 7; ++k) {
    e.push_back(seconds(eager, reps));
    c.push_back(seconds(compiled, reps));
  }
  std::printf("%-44s eager %9.1f us  compiled %9.1f us  speed-up %.2fx\n", what, median(e) * 1e6,
              median(c) * 1e6, median(e) / median(c));
}

struct SiluMlp : nn::Module {
  nn::Linear fc1{784, 256}, fc2{256, 256}, fc3{256, 10};
  SiluMlp() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  Tensor forward(Tensor x) override { return fc3(F::silu(fc2(F::silu(fc1(x))))); }
};

}  // namespace

int main(int argc, char** argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 1);
  manual_seed(1);
  std::printf("threads %d\n", get_num_threads());

  auto silu_grad = [](const std::vector<Tensor>& in) {
    const Tensor &x = in[0], &g = in[1];
    Tensor s = x.sigmoid();
    return std::vector<Tensor>{g * s + g * x * s * (1.0 - s)};
  };
  Tensor x = randn({256, 4096}), g = randn({256, 4096});
  auto fused = jit::compile(silu_grad);
  Tensor sink;
  compare(
      "SiLU gradient, 1M floats",
      [&] {
        sink = silu_grad({x, g})[0];
      },
      [&] {
        sink = fused({x, g})[0];
      },
      20);

  SiluMlp a, b;
  b.load_state_dict(a.state_dict());
  optim::Adam opt_a(a.parameters(), {.lr = 1e-3}), opt_b(b.parameters(), {.lr = 1e-3});
  auto loss_fn = [](const Tensor& out, const Tensor& y) { return F::cross_entropy(out, y); };
  auto step = jit::compile_train_step(b, loss_fn, opt_b);
  Tensor bx = nabla::rand({64, 784}), by = randint(0, 10, {64});
  for (int k = 0; k < 3; ++k) step(bx, by);
  compare(
      "SiLU MLP training step (batch 64, Adam)",
      [&] {
        opt_a.zero_grad();
        loss_fn(a(bx), by).backward();
        opt_a.step();
      },
      [&] { step(bx, by); }, 50);
  return 0;
}
