// set_num_threads: one number for nabla's loops, OpenMP and OpenBLAS.
#include <omp.h>
#include <pmmintrin.h>
#include <xmmintrin.h>

#include <atomic>

#include "backend/cpu/parallel.h"
#include "nabla/error.h"
#include "nabla/runtime.h"

extern "C" void openblas_set_num_threads(int);

namespace nabla {
namespace {
std::atomic<int> g_threads{0};
thread_local int t_local_threads = 0;
}  // namespace

namespace cpu {
int num_threads() {
  if (t_local_threads > 0) return t_local_threads;
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = omp_get_max_threads();
    g_threads.store(n, std::memory_order_relaxed);
  }
  return n;
}

void set_thread_local_num_threads(int n) { t_local_threads = n > 0 ? n : 0; }
int thread_local_num_threads() { return t_local_threads; }
}  // namespace cpu

void set_num_threads(int n) {
  NABLA_CHECK(n >= 1, "set_num_threads: need at least 1 thread, got ", n);
  g_threads = n;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int get_num_threads() { return cpu::num_threads(); }

namespace {
// Flush-to-zero is on by default (runtime.h). Set on the loading thread at start-up, before any
// OpenMP or data-loader thread exists: new threads inherit the floating-point environment.
const bool g_flush_denormal_default = [] {
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
  return true;
}();
}  // namespace

void set_flush_denormal(bool on) {
  auto apply = [on] {
    _MM_SET_FLUSH_ZERO_MODE(on ? _MM_FLUSH_ZERO_ON : _MM_FLUSH_ZERO_OFF);
    _MM_SET_DENORMALS_ZERO_MODE(on ? _MM_DENORMALS_ZERO_ON : _MM_DENORMALS_ZERO_OFF);
  };
  apply();
#pragma omp parallel
  apply();
}

}  // namespace nabla
