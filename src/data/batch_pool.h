// Internal: the DataLoader's background workers. Batch k of an epoch is a pure function of k
// (build(k): same indices, same per-batch seed, single-threaded, no grad), so any thread may build
// it and the result is the same bits. That allows a pool in which the training thread never waits
// for a worker and never wakes one:
//
//   - workers claim batch numbers in order and build up to `window` batches ahead of the consumer;
//   - next() takes batch k when a worker has finished it; otherwise the calling thread builds k
//     itself, at once, even if a worker has claimed it and is still busy (the worker's copy is then
//     dropped). A descheduled or slow worker therefore costs at most one inline build, never a sleep
//     and a wake-up round trip of the training thread through the scheduler;
//   - a worker that finds the window full naps on a timer (NapPlanner: about the time the consumer
//     takes for half a window) and refills what is free when it wakes. next() never notifies: on a
//     VM, waking a thread on a halted vCPU costs the waker ~20 us (an IPI exit), more than building
//     a small batch inline. Only shutdown wakes napping workers;
//   - the pool's lock is taken by spinning first (critical sections are a few hundred ns), so
//     neither side goes to sleep on it and needs the other to wake it;
//   - workers run at the lowest scheduling priority (nice 19) when asked: they then use CPU time the
//     training thread leaves idle and yield to it at once when they share its core (2 workers on a
//     2-core machine), instead of taking turns with it.
//
// Errors: a build's exception (on a worker or on the calling thread) is re-thrown by next() at the
// position of its batch as nabla::Error("<who>: <message>"), then the pool stops.
#pragma once
#include <immintrin.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/nap_planner.h"
#include "data/worker_thread.h"
#include "nabla/data/dataset.h"
#include "nabla/error.h"

namespace nabla::data::detail {

/// While alive, the calling thread builds batches as a worker would: nabla loops and OpenMP on one
/// thread (autograd is off inside build() already). Restores the previous settings.
class AsWorkerScope {
 public:
  AsWorkerScope() : local_(cpu::thread_local_num_threads()), omp_(omp_get_max_threads()) {
    cpu::set_thread_local_num_threads(1);
    omp_set_num_threads(1);
  }
  ~AsWorkerScope() {
    cpu::set_thread_local_num_threads(local_);
    omp_set_num_threads(omp_);
  }
  AsWorkerScope(const AsWorkerScope&) = delete;
  AsWorkerScope& operator=(const AsWorkerScope&) = delete;

 private:
  int local_, omp_;
};

/// Locks `lk` spinning first: the pool's critical sections are short, and a thread that sleeps on
/// the lock must be woken by the holder's unlock (a futex wake: on a VM an IPI exit, ~20 us).
inline void lock_spinning(std::unique_lock<std::mutex>& lk) {
  for (int i = 0; i < 256; ++i) {
    if (lk.try_lock()) return;
    _mm_pause();
  }
  lk.lock();  // the holder was descheduled: sleep
}

/// What a pool did, for tests and benchmarks.
struct BatchPoolStats {
  int64_t from_workers = 0;   // batches delivered as a worker built them
  int64_t inline_builds = 0;  // batches next() built itself
  int64_t naps = 0;           // timer naps of workers that found the window full
};

class BatchPool {
 public:
  using Build = std::function<Example(int64_t)>;

  BatchPool(int workers, int64_t window, int64_t batches, Build build, bool low_priority, std::string who)
      : build_(std::move(build)),
        who_(std::move(who)),
        batches_(batches),
        window_(std::max<int64_t>(window, 1)),
        refill_(std::max<int64_t>(window_ / 2, 1)),
        ring_(window_) {
    const unsigned fp = capture_fp_mode();
    threads_.reserve(workers);
    try {
      for (int i = 0; i < workers; ++i)
        threads_.emplace_back([this, fp, low_priority] { run(fp, low_priority); });
    } catch (...) {
      shutdown();
      throw;
    }
  }
  ~BatchPool() { shutdown(); }
  BatchPool(const BatchPool&) = delete;
  BatchPool& operator=(const BatchPool&) = delete;

  /// Counts so far (locks the pool).
  BatchPoolStats stats() {
    std::unique_lock<std::mutex> lk(mu_, std::defer_lock);
    lock_spinning(lk);
    return stats_;
  }

  /// Batch number `delivered` (then the next), nullopt after the last.
  std::optional<Example> next() {
    if (finished_) return std::nullopt;
    std::unique_lock<std::mutex> lk(mu_, std::defer_lock);
    lock_spinning(lk);
    const int64_t k = delivered_;
    if (k >= batches_) {
      finished_ = true;
      return std::nullopt;
    }
    Slot& slot = ring_[k % window_];
    std::optional<Example> value, dropped;
    std::exception_ptr error;
    if (slot.k == k && slot.ready) {
      ++stats_.from_workers;
      value = std::move(slot.value);
      error = slot.error;
      slot = Slot{};
    } else {
      // Not built yet: build it here. Claim it first if no worker has (claims go in order).
      ++stats_.inline_builds;
      if (slot.k != k) {
        next_claim_ = k + 1;
        slot = Slot{k, false, std::nullopt, nullptr};
      }
      lk.unlock();
      try {
        AsWorkerScope as_worker;
        value = build_(k);
      } catch (...) {
        error = std::current_exception();
      }
      lock_spinning(lk);
      Slot& s = ring_[k % window_];
      if (s.k == k) {
        dropped = std::move(s.value);  // a worker's copy that landed meanwhile
        s = Slot{};
      }
    }
    ++delivered_;
    lk.unlock();
    if (error) {
      finished_ = true;
      shutdown();
      rethrow_worker_error(who_, error);
    }
    return value;
  }

 private:
  // Batch k lives in ring_[k % window_] from its claim until it is delivered; `k` tells a late
  // worker whether the slot is still its own.
  struct Slot {
    int64_t k = -1;
    bool ready = false;
    std::optional<Example> value;
    std::exception_ptr error;
  };

  void run(unsigned fp, bool low_priority) {
    enter_worker_thread(fp);
    // Linux: PRIO_PROCESS with a thread id sets that thread's nice value alone. Best effort.
    if (low_priority) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
    // Naps last tens to hundreds of us; the default 50 us timer slack would make short ones late.
    prctl(PR_SET_TIMERSLACK, 10'000UL, 0, 0, 0);
    NapPlanner planner;
    std::unique_lock<std::mutex> lk(mu_, std::defer_lock);
    lock_spinning(lk);
    for (;;) {
      if (stop_.load(std::memory_order_relaxed) || next_claim_ >= batches_) return;
      if (next_claim_ >= delivered_ + window_) {
        const auto nap = planner.plan(NapPlanner::Clock::now(), delivered_, refill_);
        ++stats_.naps;
        lk.unlock();
        {
          std::unique_lock<std::mutex> nap_lk(nap_mu_);
          nap_cv_.wait_for(nap_lk, nap, [this] { return stop_.load(); });
        }
        lock_spinning(lk);
        continue;
      }
      const int64_t k = next_claim_++;
      ring_[k % window_] = Slot{k, false, std::nullopt, nullptr};
      lk.unlock();
      std::optional<Example> value;
      std::exception_ptr error;
      try {
        value = build_(k);
        demote_to_shared_cache(*value);
      } catch (...) {
        error = std::current_exception();
      }
      lock_spinning(lk);
      Slot& s = ring_[k % window_];
      if (s.k == k && !s.ready) {
        s.ready = true;
        s.value = std::move(value);
        s.error = error;
      } else {
        // The consumer built k itself; drop our copy outside the lock.
        lk.unlock();
        value.reset();
        lock_spinning(lk);
      }
    }
  }

  void shutdown() {
    {
      // Under nap_mu_, so that a worker between its predicate check and its wait sees the flag.
      std::lock_guard<std::mutex> lk(nap_mu_);
      stop_ = true;
    }
    nap_cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  Build build_;
  std::string who_;
  const int64_t batches_, window_, refill_;
  std::mutex mu_;  // the ring and the counters below
  std::vector<Slot> ring_;
  int64_t next_claim_ = 0, delivered_ = 0;
  BatchPoolStats stats_;
  std::mutex nap_mu_;  // napping workers; the consumer touches it only at shutdown
  std::condition_variable nap_cv_;
  std::atomic<bool> stop_{false};
  bool finished_ = false;  // consumer side only
  std::vector<std::thread> threads_;
};

}  // namespace nabla::data::detail
