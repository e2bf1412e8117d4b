// What does a busy neighbour thread cost the training thread? Experiments behind the DataLoader's
// worker design (docs/data_loading.md), on the seed MLP (batch 32, Adam, 1 thread) trained from
// batches prebuilt in memory, while a second thread does one of:
//   alone    nothing (the baseline);
//   spin     spins on `pause` (another hardware thread busy: SMT sharing if the vCPUs are siblings);
//   stream   converts uint8 rows to float into a private 100 KB buffer, non-stop (ToTensor-like
//            streaming: SMT sharing + memory bandwidth + shared-cache pollution);
//   duty     the same conversion once per batch the trainer takes, then naps on a timer (what a
//            DataLoader worker does: ~5 us of work per ~120 us step);
//   rewrite  rewrites the float data of the batch 2 ahead of the trainer, then naps: the trainer
//            then reads batches written on another core just before use (cross-core transfer),
//            instead of cold batches written long ago.
//   demote   as rewrite, then the neighbour pushes the lines it wrote out of its core's caches
//            into the shared L3 (CLDEMOTE, a hint; a no-op where unsupported);
//   self     the trainer rewrites each batch itself just before using it (no neighbour): the
//            0-worker loader's case, hot data written on the trainer's own core.
// The neighbour is told the trainer's progress through an atomic and never wakes the trainer.
//   ./build-bench/bench/loader_neighbour_effects [rounds=7] [fashion-mnist root]
// Prints, per condition, the median over rounds of the training thread's CPU time and the wall
// time per epoch, and their ratio to `alone` from the same round (conditions interleaved).
#include <immintrin.h>
#include <nabla/creation.h>
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/transforms.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include "common/seed_models.h"

using namespace nabla;

// The seed MLP (examples/common/seed_models.h) on the loader's [N, 28, 28] batches.
struct Mlp : SimpleNet {
  Tensor forward(Tensor x) override { return SimpleNet::forward(x.flatten(1)); }
};

static double now(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

enum Mode { kAlone, kSpin, kStream, kDuty, kRewrite, kDemote, kSelf, kModes };
static const char* kNames[kModes] = {"alone", "spin", "stream", "duty", "rewrite", "demote", "self"};

// uint8 rows -> float (x / 255 - 0.286) / 0.353, as the fused ToTensor + Normalize does.
static void convert(const uint8_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = (src[i] * (1.0f / 255) - 0.2860f) * (1.0f / 0.3530f);
}

struct Batches {
  std::vector<data::Example> f32;        // [32,1,28,28] float batches
  std::vector<std::vector<uint8_t>> u8;  // the same batches as uint8 rows
};

struct Neighbour {
  std::atomic<int64_t> progress{-1};  // the batch the trainer is on
  std::atomic<bool> stop{false};
  std::thread t;

  void start(Mode mode, Batches& b) {
    stop = false;
    progress = -1;
    if (mode == kAlone || mode == kSelf) return;
    t = std::thread([this, mode, &b] {
      std::vector<float> scratch(32 * 784);
      int64_t done = -1;
      size_t r = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (mode == kSpin) {
          for (int i = 0; i < 64; ++i) _mm_pause();
          continue;
        }
        if (mode == kStream) {
          convert(b.u8[r++ % b.u8.size()].data(), scratch.data(), scratch.size());
          continue;
        }
        const int64_t p = progress.load(std::memory_order_acquire);
        if (p > done) {  // one unit of work per batch the trainer took
          done = p;
          const size_t k = static_cast<size_t>(p + 2) % b.f32.size();
          float* dst = mode == kRewrite || mode == kDemote ? b.f32[k].data.data_ptr<float>() : scratch.data();
          convert(b.u8[k].data(), dst, scratch.size());
          if (mode == kDemote)
            for (size_t i = 0; i < scratch.size(); i += 16)
              asm volatile(".byte 0x0f, 0x1c, 0x07" ::"D"(dst + i) : "memory");  // cldemote, as the pool
        }
        std::this_thread::sleep_for(std::chrono::microseconds(40));
      }
    });
  }
  void finish() {
    stop = true;
    if (t.joinable()) t.join();
  }
};

struct Times {
  double cpu, wall;
};

static Times epoch(Mlp& model, optim::Adam& opt, Batches& b, Mode mode, Neighbour& nb) {
  nn::CrossEntropyLoss criterion;
  nb.start(mode, b);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the neighbour is running
  const double w = now(CLOCK_MONOTONIC), c = now(CLOCK_THREAD_CPUTIME_ID);
  for (size_t k = 0; k < b.f32.size(); ++k) {
    nb.progress.store(static_cast<int64_t>(k), std::memory_order_release);
    if (mode == kSelf) convert(b.u8[k].data(), b.f32[k].data.data_ptr<float>(), 32 * 784);
    const data::Example& e = b.f32[k];
    opt.zero_grad();
    criterion(model(e.data), e.target).backward();
    opt.step();
  }
  Times t{now(CLOCK_THREAD_CPUTIME_ID) - c, now(CLOCK_MONOTONIC) - w};
  nb.finish();
  return t;
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  const int rounds = std::max(1, argc > 1 ? std::atoi(argv[1]) : 7);
  set_num_threads(1);
  set_flush_denormal(true);
  using namespace data::transforms;
  data::datasets::FashionMNIST ds(argc > 2 ? argv[2] : data::datasets::FashionMNIST::kDefaultRoot, true);
  Batches b;
  {
    data::DataLoader raw(ds, {.batch_size = 32, .shuffle = true, .drop_last = true, .seed = 1});
    for (auto& batch : raw) {
      Tensor u = batch.data.contiguous();
      b.u8.emplace_back(u.data_ptr<uint8_t>(), u.data_ptr<uint8_t>() + u.numel());
      Tensor f = empty({32, 1, 28, 28});
      convert(b.u8.back().data(), f.data_ptr<float>(), 32 * 784);
      b.f32.push_back({f, batch.target});
    }
  }
  Mlp model;
  optim::Adam opt(model.parameters(), {.lr = 0.001});
  Neighbour nb;
  for (int m = 0; m < kModes; ++m) epoch(model, opt, b, Mode(m), nb);  // warm-up
  std::vector<double> cpu[kModes], wall[kModes], rc[kModes], rw[kModes];
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  const double load_before = load[0];
  for (int r = 0; r < rounds; ++r) {
    Times t[kModes];
    for (int i = 0; i < kModes; ++i) {  // rotate the order each round
      const int m = (i + r) % kModes;
      t[m] = epoch(model, opt, b, Mode(m), nb);
    }
    for (int m = 0; m < kModes; ++m) {
      cpu[m].push_back(t[m].cpu);
      wall[m].push_back(t[m].wall);
      rc[m].push_back(t[m].cpu / t[kAlone].cpu);
      rw[m].push_back(t[m].wall / t[kAlone].wall);
    }
  }
  getloadavg(load, 3);
  std::printf(
      "loader_neighbour_effects: seed MLP, batch 32, %zu batches/epoch, %d rounds, load %.2f -> %.2f\n",
      b.f32.size(), rounds, load_before, load[0]);
  for (int m = 0; m < kModes; ++m)
    std::printf("  %-8s train-thread CPU %.4f s (x%.3f)   wall %.4f s (x%.3f)   cpu share %.3f\n", kNames[m],
                median(cpu[m]), median(rc[m]), median(wall[m]), median(rw[m]),
                median(cpu[m]) / median(wall[m]));
}
