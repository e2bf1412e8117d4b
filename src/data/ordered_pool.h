// Internal: N background threads that turn a sequential input into results
// delivered IN ORDER.
//
// pull() is called under a lock, one call at a time, in claim order (it may
// read a file or a shuffled stream); work(item) runs in parallel on the
// workers. Result k is always the k-th pull after work, so the output never
// depends on the number of workers. At most `window` results are in flight
// ahead of the consumer (the prefetch depth). With 0 workers everything runs
// inline in next(), on the caller's thread.
#pragma once
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/worker_thread.h"
#include "nabla/data/dataset.h"
#include "nabla/error.h"

namespace nabla::data::detail {

template <typename In>
class OrderedPool {
 public:
  using Pull = std::function<std::optional<In>()>;
  using Work = std::function<Example(In)>;

  /// `who` prefixes errors re-thrown from workers ("DataLoader worker:
  /// <original message>").
  OrderedPool(int workers, int64_t window, Pull pull, Work work, std::string who)
      : pull_(std::move(pull)), work_(std::move(work)), who_(std::move(who)) {
    if (workers <= 0) return;
    window_ = std::max<int64_t>(window, 1);
    ring_.resize(window_);
    unsigned fp = capture_fp_mode();
    threads_.reserve(workers);
    try {
      for (int i = 0; i < workers; ++i) threads_.emplace_back([this, fp] { run(fp); });
    } catch (...) {
      shutdown();
      throw;
    }
  }
  ~OrderedPool() { shutdown(); }
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  /// The next result in order, nullopt at the end; a worker's exception is
  /// re-thrown here (at the position of the item that raised it) as
  /// nabla::Error "<who>: <message>".
  std::optional<Example> next() {
    if (finished_) return std::nullopt;
    if (threads_.empty()) {
      std::optional<In> in = pull_();
      if (!in) {
        finished_ = true;
        return std::nullopt;
      }
      return work_(std::move(*in));
    }
    std::unique_lock<std::mutex> lk(mu_);
    Slot& slot = ring_[delivered_ % window_];
    cv_ready_.wait(lk, [&] { return slot.ready || delivered_ >= end_; });
    if (!slot.ready) {
      finished_ = true;
      return std::nullopt;
    }
    Slot s = std::move(slot);
    slot = Slot{};
    ++delivered_;
    lk.unlock();
    cv_space_.notify_all();
    if (s.error) {
      finished_ = true;
      shutdown();
      rethrow_worker_error(who_, s.error);
    }
    return std::move(s.value);
  }

 private:
  struct Slot {
    bool ready = false;
    std::optional<Example> value;
    std::exception_ptr error;
  };

  void run(unsigned fp) {
    enter_worker_thread(fp);
    for (;;) {
      int64_t k;
      std::optional<In> in;
      std::exception_ptr error;
      {
        // Claiming and pulling under one lock keeps pull order == claim order
        // == output order.
        std::lock_guard<std::mutex> pull_lock(pull_mu_);
        {
          std::unique_lock<std::mutex> lk(mu_);
          cv_space_.wait(lk, [&] { return stop_ || claimed_ >= end_ || claimed_ < delivered_ + window_; });
          if (stop_ || claimed_ >= end_) return;
          k = claimed_++;
        }
        try {
          in = pull_();
        } catch (...) {
          error = std::current_exception();
        }
        if (!in || error) {
          // End of input (or a broken input): nothing past k is produced.
          std::lock_guard<std::mutex> lk(mu_);
          end_ = error ? k + 1 : k;
          if (error) ring_[k % window_] = Slot{true, std::nullopt, error};
        }
      }
      if (!in) {
        cv_ready_.notify_all();
        cv_space_.notify_all();
        return;
      }
      Slot s{true, std::nullopt, nullptr};
      try {
        s.value = work_(std::move(*in));
      } catch (...) {
        s.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lk(mu_);
        ring_[k % window_] = std::move(s);
      }
      cv_ready_.notify_all();
    }
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_space_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  Pull pull_;
  Work work_;
  std::string who_;
  int64_t window_ = 1;
  std::mutex mu_, pull_mu_;
  std::condition_variable cv_space_, cv_ready_;
  std::vector<Slot> ring_;
  int64_t claimed_ = 0, delivered_ = 0, end_ = INT64_MAX;
  bool stop_ = false;
  bool finished_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace nabla::data::detail
