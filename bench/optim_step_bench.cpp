// Optimizer steps over the seed MLP's parameters (784*64+64+64*64+64+64*10+10 = 55,050 floats), 1 thread.
//  1. The update kernels alone (src/ops/optim/update_math.h), same run, interleaved: this build's
//     float32 math (with AVX-512: the square root from rsqrt14 + a Newton step on the FMA units)
//     against the plain formulas (optim_step_bench_plain.cpp: sqrt and divide on the divider, what
//     machines without AVX-512 run). Median and best us per step of 101 rounds x 20 steps (short
//     rounds: on a shared machine both sides see the same mix of quiet and contended slices); ratio of
//     the medians.
//  2. optim::Adam::step() as a user calls it (op dispatch, bias corrections, version counters), in ns
//     per parameter, with normal moments and with 20% of the moments denormal (the state a dead ReLU
//     unit's weights reach: zero gradients decay exp_avg_sq below FLT_MIN), flush-to-zero off and on.
//   ./optim_step_bench        (1 thread; the step stays on one thread at this size anyway)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "nabla/creation.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "nabla/runtime.h"
#include "optim_step_kernels.h"

using namespace nabla;

namespace optim_bench {
void plain_kernel_step(Kind kind, Buffers& b);  // optim_step_bench_plain.cpp
}

static double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x[x.size() / 2];
}

static void kernels() {
  using optim_bench::Kind;
  const struct {
    const char* name;
    Kind kind;
  } kinds[] = {{"Adam", Kind::kAdam},
               {"AdamW amsgrad", Kind::kAdamWAmsgrad},
               {"RMSprop", Kind::kRMSprop},
               {"RMSprop centered", Kind::kRMSpropCentered},
               {"Adagrad", Kind::kAdagrad}};
  std::printf("update kernels, %s float32 math vs plain formulas, us per step (median / best of 101 x 20):\n",
              nabla::ops::optim_cpu::simd::isa_name());
  for (const auto& k : kinds) {
    optim_bench::Buffers fast_buf, plain_buf;
    std::vector<double> fast, plain;
    auto time = [&](auto&& step, optim_bench::Buffers& b) {
      const int steps = 20;
      auto t0 = std::chrono::steady_clock::now();
      for (int s = 0; s < steps; ++s) step(k.kind, b);
      return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / steps;
    };
    for (int round = 0; round < 101; ++round) {  // interleaved, so load changes hit both sides
      fast.push_back(time(optim_bench::kernel_step, fast_buf));
      plain.push_back(time(optim_bench::plain_kernel_step, plain_buf));
    }
    std::printf("  %-17s this build %6.2f / %6.2f   plain %6.2f / %6.2f   speed-up %.2fx\n", k.name,
                median(fast), *std::min_element(fast.begin(), fast.end()), median(plain),
                *std::min_element(plain.begin(), plain.end()), median(plain) / median(fast));
  }
}

static double ns_per_param(bool denormal, bool flush) {
  set_flush_denormal(flush);
  const Shape shapes[] = {{64, 784}, {64}, {64, 64}, {64}, {10, 64}, {10}};
  Generator gen(1);
  std::vector<Tensor> params;
  int64_t total = 0;
  for (const auto& s : shapes) {
    Tensor p = (randn(s, {}, &gen) * 0.05).set_requires_grad();
    Tensor g = randn(s, {}, &gen) * 1e-3;
    if (denormal) {  // every fifth element: zero gradient, moments already denormal
      float* gp = g.data_ptr<float>();
      for (int64_t i = 0; i < g.numel(); i += 5) gp[i] = 0;
    }
    p.set_grad(g);
    params.push_back(p);
    total += p.numel();
  }
  optim::Adam adam(params, {.lr = 1e-3});
  adam.step();  // creates the moments
  if (denormal) {
    auto sd = adam.state_dict();
    for (auto& [id, st] : sd.state)
      for (const char* name : {"exp_avg", "exp_avg_sq"}) {
        float* x = st.at(name).data_ptr<float>();
        for (int64_t i = 0; i < st.at(name).numel(); i += 5) x[i] = 1e-39f;
      }
    adam.load_state_dict(sd);
  }
  double best = 1e30;
  for (int rep = 0; rep < 7; ++rep) {
    const int steps = 300;
    auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) adam.step();
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, ns / steps / double(total));
  }
  return best;
}

int main() {
  set_num_threads(1);
  kernels();
  const double n = 55050 / 1000.0;
  auto line = [&](const char* what, double ns) {
    std::printf("  %s %.3f ns/param (%.1f us/step)\n", what, ns, ns * n);
  };
  std::printf("optim::Adam::step(), 55,050 float32 params, best of 7 x 300 steps:\n");
  line("normal moments,        flush off:", ns_per_param(false, false));
  line("normal moments,        flush on: ", ns_per_param(false, true));
  line("20% denormal moments, flush off:", ns_per_param(true, false));
  line("20% denormal moments, flush on: ", ns_per_param(true, true));
}
