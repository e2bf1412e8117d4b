// Internal: nabla's one threading policy. All parallel loops use OpenMP, the same pool that
// OpenBLAS (libopenblas-openmp) uses, so the two never oversubscribe the cores.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>

namespace nabla::cpu {

/// Threads for nabla loops (set_num_threads), or this thread's own limit when one is set.
int num_threads();
/// Limits nabla loops started from the calling thread to n threads (0 = follow set_num_threads).
/// Data-loading workers use 1 so that N workers never start N OpenMP teams.
void set_thread_local_num_threads(int n);
/// The calling thread's own limit (0 = none), to restore after a scoped change.
int thread_local_num_threads();

/// Elements below which a loop stays on the calling thread (thread start-up costs ~1-5 us).
constexpr int64_t kGrainSize = 32768;

/// Runs f(b, e) over [begin, end) split into contiguous ranges, one per thread, when the range is
/// at least `grain` long; otherwise inline. f must not depend on how the range is split.
template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  int64_t n = end - begin;
  if (n <= 0) return;
  int nt = num_threads();
  if (nt <= 1 || n < 2 * grain || omp_in_parallel()) {
    f(begin, end);
    return;
  }
  nt = static_cast<int>(std::min<int64_t>(nt, n / grain));
  std::exception_ptr err;
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num();
    int64_t chunk = (n + nt - 1) / nt;
    int64_t b = begin + t * chunk, e = std::min(end, b + chunk);
    try {
      if (b < e) f(b, e);
    } catch (...) {
#pragma omp critical
      if (!err) err = std::current_exception();
    }
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace nabla::cpu
