// How long does a thread take to read a 100 KB batch (32 x 784 floats) that was written
//   - by itself just before (the 0-worker DataLoader: hot in its own L1/L2);
//   - by another thread on another CPU just before (a DataLoader worker's batch: snooped line by
//     line out of the other core's L2);
//   - by another thread, which then CLDEMOTEd the lines (what the DataLoader's workers do: the
//     lines wait in the shared L3);
//   - long ago (one of 2000 rotating batches, 200 MB: "prebuilt in memory", from DRAM/L3)?
// Median of 1200 reads each, in TSC cycles. No nabla code: the hardware effect alone.
//   ./build-bench/bench/cross_core_read
#include <immintrin.h>
#include <sched.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
constexpr size_t N = 32 * 784;
static float sum(const float* p) {
  __m512 s = _mm512_setzero_ps();
  for (size_t i = 0; i < N; i += 16) s = _mm512_add_ps(s, _mm512_load_ps(p + i));
  return _mm512_reduce_add_ps(s);
}
static void fill(float* p, float v) {
  for (size_t i = 0; i < N; ++i) p[i] = v + i;
}
int main() {
  const int reps = 400;
  std::vector<float*> bufs;
  for (int i = 0; i < 2000; ++i) {
    float* p = (float*)aligned_alloc(64, N * 4);
    fill(p, i);
    bufs.push_back(p);
  }
  float* hot = (float*)aligned_alloc(64, N * 4);
  std::atomic<int> req{0}, done{0};
  std::atomic<int> mode{0};
  std::atomic<bool> stop{false};
  int bcpu = -1;
  std::thread b([&] {
    int seen = 0;
    while (!stop) {
      int r = req.load(std::memory_order_acquire);
      if (r == seen) {
        _mm_pause();
        continue;
      }
      seen = r;
      bcpu = sched_getcpu();
      fill(hot, r);
      if (mode == 2)
        for (size_t i = 0; i < N; i += 16) asm volatile(".byte 0x0f, 0x1c, 0x07" ::"D"(hot + i) : "memory");
      done.store(r, std::memory_order_release);
    }
  });
  std::vector<double> t[4];
  volatile float sink = 0;
  int acpu_same = 0;
  for (int r = 1; r <= reps * 3; ++r) {
    for (int m = 0; m < 4; ++m) {
      uint64_t c;
      if (m == 0) {
        fill(hot, r);
        c = __rdtsc();
        sink = sink + sum(hot);
      } else if (m == 3) {
        float* p = bufs[(r * 7) % bufs.size()];
        c = __rdtsc();
        sink = sink + sum(p);
      } else {
        mode = m;
        int id = r * 4 + m;
        req.store(id, std::memory_order_release);
        while (done.load(std::memory_order_acquire) != id) _mm_pause();
        acpu_same += sched_getcpu() == bcpu;
        c = __rdtsc();
        sink = sink + sum(hot);
      }
      t[m].push_back(double(__rdtsc() - c));
    }
  }
  stop = true;
  req = -1;
  b.join();
  const char* names[4] = {"written by self", "written by other CPU", "other CPU + cldemote",
                          "cold (200 MB ring)"};
  for (int m = 0; m < 4; ++m) {
    std::sort(t[m].begin(), t[m].end());
    printf("  %-22s p25 %7.0f  median %7.0f  p75 %7.0f TSC cycles (%.2f us at 2.6 GHz, this VM's TSC)\n",
           names[m], t[m][t[m].size() / 4], t[m][t[m].size() / 2], t[m][3 * t[m].size() / 4],
           t[m][t[m].size() / 2] / 2600);
  }
  printf("  (same cpu as B in %d of %d cross reads)\n", acpu_same, reps * 3 * 2);
}
