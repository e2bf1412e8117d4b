// One Adam step over the seed MLP's parameters (784*64+64+64*64+64+64*10+10 = 55,050 floats), in
// ns per parameter, with normal moments and with 20% of the moments denormal (the state a dead
// ReLU unit's weights reach: zero gradients decay exp_avg_sq below FLT_MIN), flush-to-zero off and on.
//   ./optim_step_bench        (1 thread; the step stays on one thread at this size anyway)
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "nabla/creation.h"
#include "nabla/ops.h"
#include "nabla/optim/adam.h"
#include "nabla/runtime.h"

using namespace nabla;

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
  std::printf("Adam step, 55,050 float32 params, best of 7 x 300 steps (ns/param):\n");
  std::printf("  normal moments,        flush off: %.3f\n", ns_per_param(false, false));
  std::printf("  normal moments,        flush on:  %.3f\n", ns_per_param(false, true));
  std::printf("  20%% denormal moments, flush off: %.3f\n", ns_per_param(true, false));
  std::printf("  20%% denormal moments, flush on:  %.3f\n", ns_per_param(true, true));
}
