// What does waking a sleeping thread cost the waker, and how long until the wakee runs? The main
// thread works ~120 us (a training step of the seed MLP), then notifies a condition variable on
// which a worker sleeps (what the DataLoader's consumer did once per batch before the workers
// napped on timers instead). On the 2-vCPU KVM dev VM (cpuidle haltpoll, guest_halt_poll_ns=0: an
// idle vCPU halts at once) notify_one costs the waker ~15-21 us: an IPI to a halted vCPU exits to
// the hypervisor. A wake-up that needs no IPI (the worker queued on the waker's own CPU) costs
// ~0.1 us: the program shows those too when the other CPU is busy.
// Run it on an idle machine: when the other CPU is busy, the worker lands on the waker's CPU and
// the figures say nothing about halted vCPUs ("same cpu as waker" counts those wake-ups).
//   ./build-bench/bench/futex_wake_cost [worker nice=19]
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>
using clk = std::chrono::steady_clock;
static double us(clk::time_point a, clk::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}
int main(int argc, char** argv) {
  int niceval = argc > 1 ? atoi(argv[1]) : 19;
  int iters = 2000;
  std::mutex mu;
  std::condition_variable cv;
  int64_t gen = 0;
  bool stop = false;
  std::vector<clk::time_point> sent(iters + 1), woke(iters + 1);
  std::vector<int> cpu(iters + 1), maincpu(iters + 1);
  std::thread w([&] {
    setpriority(PRIO_PROCESS, syscall(SYS_gettid), niceval);
    std::unique_lock<std::mutex> lk(mu);
    int64_t seen = 0;
    while (!stop) {
      cv.wait(lk, [&] { return gen != seen || stop; });
      if (stop) break;
      seen = gen;
      woke[seen] = clk::now();
      cpu[seen] = sched_getcpu();
      // do 5us of work
      auto t0 = clk::now();
      while (us(t0, clk::now()) < 5) {
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::vector<double> notify_cost;
  for (int i = 1; i <= iters; ++i) {
    auto t0 = clk::now();
    volatile double x = 0;
    while (us(t0, clk::now()) < 120) x = x + 1;
    auto a = clk::now();
    {
      std::lock_guard<std::mutex> lk(mu);
      gen = i;
      sent[i] = clk::now();
      maincpu[i] = sched_getcpu();
    }
    cv.notify_one();
    notify_cost.push_back(us(a, clk::now()));
  }
  {
    std::lock_guard<std::mutex> lk(mu);
    stop = true;
  }
  cv.notify_one();
  w.join();
  std::vector<double> lat;
  int same = 0, missed = 0;
  for (int i = 1; i <= iters; ++i) {
    if (woke[i].time_since_epoch().count() == 0) {
      ++missed;
      continue;
    }
    lat.push_back(us(sent[i], woke[i]));
    same += cpu[i] == maincpu[i];
  }
  std::sort(lat.begin(), lat.end());
  std::sort(notify_cost.begin(), notify_cost.end());
  auto q = [](std::vector<double>& v, double f) { return v.empty() ? -1 : v[(size_t)(f * (v.size() - 1))]; };
  printf(
      "nice %d: wake latency us p10 %.1f p50 %.1f p90 %.1f p99 %.1f; same cpu as waker %d/%zu; missed %d; "
      "notify cost p50 %.2f p90 %.2f us\n",
      niceval, q(lat, .1), q(lat, .5), q(lat, .9), q(lat, .99), same, lat.size(), missed, q(notify_cost, .5),
      q(notify_cost, .9));
}
