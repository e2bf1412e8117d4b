// Team: see team.h. One job at a time, offered by the leader through word_; team thread t claims
// chunk t by moving claim_[t] to the job's generation (so does the leader when it runs a chunk
// that nobody has claimed), which makes each chunk run exactly once even when the leader takes
// over: a thread that claims a chunk has seen the job published, and the job stays published
// (the leader waits) until every chunk of it has finished.
#include "backend/cpu/team.h"

#include <immintrin.h>
#include <omp.h>
#include <sched.h>
#include <time.h>

#include <algorithm>

namespace nabla::cpu {
namespace {

thread_local Team* t_team = nullptr;  // the team this thread leads, while it is free for a job
std::atomic<bool> g_paused_for_testing{false};
std::atomic<int64_t> g_jobs_total{0};

// Pauses a waiting thread spins before it starts yielding its core (~40 us on the 2-vCPU test VM,
// ~10 ns a pause): longer than the serial stretches between the split ops of a small graph (the
// seed MLP's step: ~20 us), so a team thread answers within ~0.1 us there; past it, yielding
// lets other processes run.
constexpr int kSpins = 4096;
// Pauses (~0.6 us) the leader grants a team thread to claim its chunk, after the leader's own
// chunk, before running it itself: a spinning thread claims within a few, a descheduled one never.
constexpr int kGrace = 64;

// Yields (~0.5-1 ms in all) before an idle team thread naps instead: a team thread waiting
// through a long serial op (a big graph) stops taking a core. Naps never hold the leader up: it
// runs the chunks of a napping thread itself (kGrace). The leader, waiting for chunks that are
// running, never naps (a nap would add up to its length to every long job).
constexpr int kYields = 2048;
constexpr timespec kNap{0, 10000};  // 10 us

// Waits for ready() with backoff: spin, yield, then (if allowed) nap.
template <typename P>
void wait_until(const P& ready, bool nap) {
  for (int i = 0; !ready();) {
    if (i < kSpins) {
      ++i;
      _mm_pause();
    } else if (!nap || i < kSpins + kYields) {
      i += nap;
      sched_yield();
    } else {
      nanosleep(&kNap, nullptr);
    }
  }
}

}  // namespace

Team* current_team() { return t_team; }
int team_size(const Team& team) { return team.size(); }
void team_run(Team& team, int nt, int64_t begin, int64_t end, int64_t chunk,
              void (*fn)(const void*, int64_t, int64_t), const void* ctx) {
  team.run(nt, begin, end, chunk, fn, ctx);
}

void Team::execute(int t) {
  const int64_t b = begin_ + t * chunk_, e = std::min(end_, b + chunk_);
  if (b < e) {
    try {
      fn_(ctx_, b, e);
    } catch (...) {
      std::lock_guard<std::mutex> lock(err_mu_);
      if (!failed_.exchange(true)) err_ = std::current_exception();
    }
  }
  finished_.fetch_add(1, std::memory_order_acq_rel);
}

void Team::run(int nt, int64_t begin, int64_t end, int64_t chunk, Fn fn, const void* ctx) {
  nt = std::clamp(nt, 1, size_);
  fn_ = fn;
  ctx_ = ctx;
  begin_ = begin;
  end_ = end;
  chunk_ = chunk;
  finished_.store(0, std::memory_order_relaxed);
  const uint64_t g = ++gen_;
  ++jobs_;
  word_.store(g << 8 | static_cast<uint64_t>(nt), std::memory_order_release);
  t_team = nullptr;  // a parallel_for inside a chunk runs inline
  execute(0);
  for (int t = 1; t < nt; ++t) {
    for (int i = 0; i < kGrace && claim_[t].gen.load(std::memory_order_acquire) < g; ++i) _mm_pause();
    uint64_t c = claim_[t].gen.load(std::memory_order_acquire);
    if (c < g && claim_[t].gen.compare_exchange_strong(c, g, std::memory_order_acq_rel)) execute(t);
  }
  wait_until([&] { return finished_.load(std::memory_order_acquire) == nt; }, false);
  t_team = this;
  if (failed_.load(std::memory_order_acquire)) {
    std::exception_ptr err = std::move(err_);
    err_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    std::rethrow_exception(err);
  }
}

void Team::serve(int t) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t w = 0;
    wait_until([&] { return ((w = word_.load(std::memory_order_acquire)) >> 8) != seen; }, true);
    seen = w >> 8;
    const uint64_t nt = w & 0xff;
    if (nt == kStop) return;
    if (static_cast<uint64_t>(t) >= nt || g_paused_for_testing.load(std::memory_order_relaxed)) continue;
    uint64_t c = claim_[t].gen.load(std::memory_order_acquire);
    if (c < seen && claim_[t].gen.compare_exchange_strong(c, seen, std::memory_order_acq_rel)) execute(t);
  }
}

int64_t team_jobs_total() { return g_jobs_total.load(std::memory_order_relaxed); }
void pause_team_threads_for_testing(bool on) { g_paused_for_testing = on; }

void Team::stop() { word_.store((gen_ + 1) << 8 | kStop, std::memory_order_release); }

int64_t with_team_impl(int n, void (*body)(void*), void* ctx) {
  n = std::clamp(n, 1, Team::kMaxThreads);
  Team team;
  std::exception_ptr err;
#pragma omp parallel num_threads(n)
  {
    const int t = omp_get_thread_num();
    if (t == 0) {
      team.size_ = omp_get_num_threads();
      Team* prev = t_team;
      t_team = &team;
      try {
        body(ctx);
      } catch (...) {
        err = std::current_exception();
      }
      t_team = prev;
      team.stop();
    } else {
      team.serve(t);
    }
  }
  g_jobs_total.fetch_add(team.jobs(), std::memory_order_relaxed);
  if (err) std::rethrow_exception(err);
  return team.jobs();
}

}  // namespace nabla::cpu
