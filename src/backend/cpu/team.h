// Internal: a team of threads that stays together for a whole sequence of ops.
//
// Every parallel_for normally forks and joins an OpenMP team of its own (~0.7 us with warm
// threads on the 2-vCPU test VM), and which core runs which chunk is decided op by op, so in a
// small model's step a weight, its gradient and its Adam state migrate between the cores' caches.
// with_team() instead opens one parallel region around a whole sequence of ops: the calling
// thread (the leader) runs the ops and the other threads wait; each parallel_for the leader
// reaches hands chunk k to team thread k (the leader does chunk 0) with no fork (~0.4 us a job),
// and since the chunks depend only on the sizes, the same thread gets the same rows of the same
// tensor every step. Serial ops run on the leader alone. Waiting threads spin (~40 us), then
// yield, then nap; the region, and the waiting, ends with the sequence.
//
// If a team thread has not picked up its chunk by the time the leader has finished its own (it
// was descheduled on a busy machine), the leader runs that chunk itself: the results are the same
// (chunk boundaries never depend on who runs them), only the placement differs.
//
// Example:
//   int jobs = cpu::with_team(cpu::num_threads(), [&] { for (auto& op : ops) op.run(); });
#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>

#include "backend/cpu/parallel.h"

namespace nabla::cpu {

class Team {
 public:
  static constexpr int kMaxThreads = 64;
  using Fn = void (*)(const void* ctx, int64_t begin, int64_t end);

  int size() const { return size_; }
  /// parallel_jobs so far (the executor stops opening teams for graphs that never split).
  int64_t jobs() const { return jobs_; }
  /// Leader only: runs fn over [begin, end) in nt chunks of `chunk` elements, chunk k on thread k.
  void run(int nt, int64_t begin, int64_t end, int64_t chunk, Fn fn, const void* ctx);

 private:
  friend int64_t with_team_impl(int, void (*)(void*), void*);
  void serve(int t);  // a waiting thread's loop, until stop()
  void stop();
  void execute(int t);

  static constexpr uint64_t kStop = 0xff;
  // (generation << 8) | chunk count of the job on offer; count kStop ends the team.
  alignas(64) std::atomic<uint64_t> word_{0};
  Fn fn_ = nullptr;
  const void* ctx_ = nullptr;
  int64_t begin_ = 0, end_ = 0, chunk_ = 0;
  uint64_t gen_ = 0;
  int size_ = 1;
  int64_t jobs_ = 0;
  alignas(64) std::atomic<int> finished_{0};  // chunks of the current job done
  alignas(64) std::atomic<bool> failed_{false};
  std::exception_ptr err_;
  std::mutex err_mu_;
  struct alignas(64) Claim {
    std::atomic<uint64_t> gen{0};  // generation of the last job whose chunk t was claimed
  };
  Claim claim_[kMaxThreads];
};

int64_t with_team_impl(int n, void (*body)(void*), void* ctx);

/// Runs body() on the calling thread as the leader of a team of up to n threads (see the file
/// comment); returns how many parallel_for calls the team split. Exceptions from body or from a
/// chunk propagate to the caller.
template <typename F>
int64_t with_team(int n, F&& body) {
  return with_team_impl(
      n, [](void* c) { (*static_cast<std::remove_reference_t<F>*>(c))(); }, &body);
}

/// Jobs split by all teams so far (process-wide; for tests and benchmarks).
int64_t team_jobs_total();

/// Tests only: team threads stop claiming chunks (as if descheduled), so the leader runs them.
void pause_team_threads_for_testing(bool on);

}  // namespace nabla::cpu
