// The optimizer update kernels (src/ops/optim/update_math.h) over the seed MLP's six parameter
// tensors, for bench/optim_step_bench.cpp. Included by that file (this build's float32 math) and by
// optim_step_bench_plain.cpp (NABLA_OPTIM_NO_SIMD: the plain formulas); `static`, so each includer
// keeps its own copy.
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "ops/optim/update_math.h"

namespace optim_bench {

enum class Kind { kAdam, kAdamWAmsgrad, kRMSprop, kRMSpropCentered, kAdagrad };

/// Parameter, gradient and three state buffers per tensor of the seed MLP.
struct Buffers {
  std::vector<std::vector<float>> p, g, s1, s2, s3;
  int64_t numel = 0;
  Buffers() {
    const int64_t sizes[] = {64 * 784, 64, 64 * 64, 64, 10 * 64, 10};
    std::mt19937 rng(1);
    std::normal_distribution<float> nd;
    for (int64_t n : sizes) {
      numel += n;
      std::vector<float> p0(n), g0(n), m0(n), v0(n);
      for (int64_t i = 0; i < n; ++i) {
        p0[i] = 0.05f * nd(rng);
        g0[i] = 1e-3f * nd(rng);
        m0[i] = 1e-4f * nd(rng);
        v0[i] = 1e-6f * g0[i] * g0[i] + 1e-9f;  // moments of a few steps: positive, normal floats
      }
      p.push_back(p0);
      g.push_back(g0);
      s1.push_back(m0);
      s2.push_back(v0);
      s3.push_back(v0);
    }
  }
};

/// One step of `kind` over every tensor (1 thread), with the hyper-parameters of a mid-training step.
static void kernel_step(Kind kind, Buffers& b) {
  using namespace nabla::ops::optim_cpu;
  const double lr = 1e-3, step = 100;
  const AdamConsts<float> adam{0.9f,
                               0.1f,
                               0.999f,
                               0.001f,
                               0.01f,
                               1e-8f,
                               float(-lr / (1 - std::pow(0.9, step))),
                               float(1 / std::sqrt(1 - std::pow(0.999, step))),
                               float(1 - lr * 0.01)};
  const RMSpropConsts<float> rms{-1e-3f, 0.99f, 0.01f, 1e-8f, 0.0f, 0.0f};
  for (size_t t = 0; t < b.p.size(); ++t) {
    float *p = b.p[t].data(), *g = b.g[t].data(), *s1 = b.s1[t].data(), *s2 = b.s2[t].data(),
          *s3 = b.s3[t].data();
    const int64_t n = static_cast<int64_t>(b.p[t].size());
    switch (kind) {
      case Kind::kAdam:
        adam_range<float, Decay::kNone, false>(p, g, s1, s2, s3, 0, n, adam);
        break;
      case Kind::kAdamWAmsgrad:
        adam_range<float, Decay::kDecoupled, true>(p, g, s1, s2, s3, 0, n, adam);
        break;
      case Kind::kRMSprop:
        rmsprop_range<float, false, false, false>(p, g, s2, s1, s3, 0, n, rms);
        break;
      case Kind::kRMSpropCentered:
        rmsprop_range<float, false, true, false>(p, g, s2, s1, s3, 0, n, rms);
        break;
      case Kind::kAdagrad:
        adagrad_range<float, false>(p, g, s2, 0, n, -1e-2f, 1e-10f, 0.0f);
        break;
    }
  }
}

}  // namespace optim_bench
