// Internal: how long a data worker with nothing to do sleeps, so that it wakes up by itself, by a
// timer, about when the consumer has freed half of its prefetch window.
//
// Why not let the consumer wake it (a condition variable notified from next())? On a virtual
// machine, waking a thread whose vCPU is halted takes an inter-processor interrupt, i.e. an exit
// to the hypervisor, paid by the waker: measured on the 2-vCPU KVM/PVM dev VM (haltpoll idle with
// guest_halt_poll_ns=0), a notify that wakes a sleeping worker costs the training thread ~21 us of
// CPU, 1 per batch with the old half-window refill at prefetch 2 -- +18% on a 120 us MLP step,
// more than building the batch inline (5.5 us). A timer wake-up is paid by the sleeper's own vCPU.
//
// The planner estimates the consumer's time per batch from what the worker sees at its naps
// (wall time between naps / batches delivered in between), and plans the next nap as that time
// `refill` batches. A nap that finds no progress (the consumer is paused: evaluation, checkpoint)
// is followed by a shorter one, then by doubling naps up to kMaxNap, so a stalled consumer costs
// a few hundred wake-ups per second, and a resumed one at most kMaxNap of inline builds.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace nabla::data::detail {

class NapPlanner {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::nanoseconds kMinNap{20'000};     // 20 us
  static constexpr std::chrono::nanoseconds kMaxNap{2'000'000};  // 2 ms
  static constexpr std::chrono::nanoseconds kFirstNap{100'000};  // before any estimate

  /// The nap to take now, when the window is full and `delivered` batches have been consumed;
  /// `refill` is the number of batches the worker wants free before it builds again.
  std::chrono::nanoseconds plan(Clock::time_point now, int64_t delivered, int64_t refill) {
    if (!started_) {
      started_ = true;
    } else if (delivered > last_delivered_) {
      const double sample =
          std::min<double>(std::chrono::duration<double, std::nano>(now - last_time_).count() /
                               static_cast<double>(delivered - last_delivered_),
                           kMaxNap.count());
      per_batch_ns_ = per_batch_ns_ > 0 ? 0.75 * per_batch_ns_ + 0.25 * sample : sample;
      idle_naps_ = 0;
    } else {
      ++idle_naps_;
    }
    last_time_ = now;
    last_delivered_ = delivered;
    double ns = per_batch_ns_ > 0 ? per_batch_ns_ * static_cast<double>(std::max<int64_t>(refill, 1))
                                  : static_cast<double>(kFirstNap.count());
    // Woke up just before the consumer took a batch: try again soon, then back off.
    if (idle_naps_ > 0)
      ns = per_batch_ns_ > 0 ? per_batch_ns_ / 4 * double(1 << std::min(idle_naps_, 20)) : ns;
    const double clamped = std::clamp<double>(ns, kMinNap.count(), kMaxNap.count());
    return std::chrono::nanoseconds(static_cast<int64_t>(clamped));
  }

  /// The current estimate of the consumer's time per batch (0 before two naps).
  double per_batch_ns() const { return per_batch_ns_; }

 private:
  bool started_ = false;
  Clock::time_point last_time_{};
  int64_t last_delivered_ = 0;
  double per_batch_ns_ = 0;
  int idle_naps_ = 0;
};

}  // namespace nabla::data::detail
