// Internal: nabla's one threading policy. All parallel loops use OpenMP, the same pool that
// OpenBLAS (libopenblas-openmp) uses, so the two never oversubscribe the cores. Inside a team
// (team.h: the graph executor's runs) a parallel_for hands its chunks to the team's waiting
// threads instead of forking a team of its own.
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

class Team;
/// The team led by the calling thread, when it is free to take a job (team.h); null otherwise.
Team* current_team();
int team_size(const Team& team);
void team_run(Team& team, int nt, int64_t begin, int64_t end, int64_t chunk,
              void (*fn)(const void*, int64_t, int64_t), const void* ctx);

/// Elements below which a loop stays on the calling thread (thread start-up costs ~1-5 us).
constexpr int64_t kGrainSize = 32768;

/// Grain of an optimizer update (~10 flops and 16-20 bytes of state per element, ~0.5 ns): a
/// 64 x 784 weight is split in two, a team job (~0.3 us) or a fork (~2 us) being well repaid.
constexpr int64_t kUpdateGrainSize = 8192;

/// Runs f(b, e) over [begin, end) split into contiguous ranges, one per thread, when the range is
/// at least `grain` long; otherwise inline. f must not depend on how the range is split.
template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  int64_t n = end - begin;
  if (n <= 0) return;
  if (Team* team = current_team()) {
    // The same split as below, on the team's threads: chunk k to thread k, no fork.
    int64_t nt = n < 2 * grain ? 1 : std::min<int64_t>(team_size(*team), n / std::max<int64_t>(grain, 1));
    if (nt <= 1) {
      f(begin, end);
      return;
    }
    team_run(
        *team, static_cast<int>(nt), begin, end, (n + nt - 1) / nt,
        [](const void* c, int64_t b, int64_t e) { (*static_cast<const F*>(c))(b, e); }, &f);
    return;
  }
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

/// parallel_for over the n elements of a tensor with `rows` rows (a parameter [out, in, ...]:
/// rows = out; 1-D tensors: rows = n), with chunk boundaries on whole rows: an optimizer step then
/// splits a weight where its GEMMs split it (gemm.h), so in a team each thread updates the rows
/// it computed the gradient of.
template <typename F>
void parallel_for_rows(int64_t n, int64_t rows, int64_t grain, const F& f) {
  if (rows <= 0 || n % rows != 0 || rows == n) return parallel_for(0, n, grain, f);
  const int64_t row = n / rows;
  parallel_for(0, rows, std::max<int64_t>(1, grain / row),
               [&](int64_t b, int64_t e) { f(b * row, e * row); });
}

}  // namespace nabla::cpu
