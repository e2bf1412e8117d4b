// Does the DataLoader keep up with training? DESIGN.md's criterion: training with the loader is <= 5%
// slower than training from batches prebuilt in memory.
//   ./build-bench/bench/loader_training_overhead [threads=1] [num_workers=1] [pairs=15] [fashion-mnist root]
//
// Side A ("prebuilt"): one epoch of the seed MLP (batch 32, Adam) over 1875 batches built once before
// timing (FashionMNIST train, shuffle, ToTensor + Normalize) and kept in a vector.
// Side B ("loader"): the same epoch fed by DataLoader(FashionMNIST, shuffle, ToTensor + Normalize,
// num_workers): each epoch reshuffles 60,000 indices, gathers 32 uint8 rows per batch and converts them.
// Both sides train the same model in the same thread with the same thread count and FTZ/DAZ state
// (set_flush_denormal(true), the default, set explicitly here). Nothing is pinned: workers are created
// by the training thread and would inherit its affinity.
//
// Timing: one warm-up epoch of each side, then `pairs` pairs of epochs interleaved A B B A A B ... (each
// pair alternates which side goes first, so a linear drift in machine load or in the optimizer's state
// cancels). Each pair gives an overhead B/A - 1; the verdict is the median over pairs, with the quartiles
// and the extremes as its spread. Wall time is the criterion; the training thread's CPU time (blind to
// neighbours taking the core, but not to cache pollution) and the whole process's CPU time (training +
// workers) are printed beside it. "cpu share" = training-thread CPU / wall on side A: below ~0.95 the
// machine took time from us and the wall figures are noisy.
// "B's batches built by workers" (DataLoader::stats()) tells which regime was measured: near 100%
// the workers had a free core; near 0% they got no CPU in time (nice 19 on a busy machine) and the
// training thread built the batches itself, as with 0 workers. On a machine shared with compiles,
// `chrt -f 10 <this bench> ...` (root) keeps them off both cores for the few seconds of a run.
// (pairs 1 under callgrind: compare the inclusive counts of the two train_epoch instances.)
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/transforms.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "common/seed_models.h"

using namespace nabla;

// The seed MLP (examples/common/seed_models.h) on the loader's [N, 28, 28] batches.
struct Mlp : SimpleNet {
  Tensor forward(Tensor x) override { return SimpleNet::forward(x.flatten(1)); }
};

double now(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// One epoch's wall time, the training thread's CPU time, the whole process's CPU time (training
// thread + workers), and the wall time the training thread spent getting batches (advancing the
// iterator: a vector's ++ on side A; building or waiting for the batch on side B).
struct EpochTimes {
  double wall, thread_cpu, process_cpu, fetch;
};

template <typename Batches>
EpochTimes train_epoch(Mlp& model, optim::Adam& opt, Batches&& batches) {
  nn::CrossEntropyLoss criterion;
  double w = now(CLOCK_MONOTONIC), t = now(CLOCK_THREAD_CPUTIME_ID), p = now(CLOCK_PROCESS_CPUTIME_ID);
  double fetch = 0;
  int64_t n = 0;
  double f0 = now(CLOCK_MONOTONIC);
  auto it = std::begin(batches);
  fetch += now(CLOCK_MONOTONIC) - f0;
  while (it != std::end(batches)) {
    auto& [x, y] = *it;
    opt.zero_grad();
    criterion(model(x), y).backward();
    opt.step();
    n += x.size(0);
    f0 = now(CLOCK_MONOTONIC);
    ++it;
    fetch += now(CLOCK_MONOTONIC) - f0;
  }
  if (n != 60000) std::abort();
  return {now(CLOCK_MONOTONIC) - w, now(CLOCK_THREAD_CPUTIME_ID) - t, now(CLOCK_PROCESS_CPUTIME_ID) - p,
          fetch};
}

// Quantile q of v (nearest rank on the sorted values; the median of an odd count is exact).
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * (v.size() - 1) + 0.5)];
}

struct Spread {
  double median, q1, q3, lo, hi;
};
Spread spread(const std::vector<double>& v) {
  return {quantile(v, 0.5), quantile(v, 0.25), quantile(v, 0.75), quantile(v, 0), quantile(v, 1)};
}

// Per-pair overheads (%) of a field.
std::vector<double> overheads(const std::vector<EpochTimes>& a, const std::vector<EpochTimes>& b,
                              double EpochTimes::*f) {
  std::vector<double> o;
  for (size_t i = 0; i < a.size(); ++i) o.push_back(100 * (b[i].*f / a[i].*f - 1));
  return o;
}

double load_average() {
  double load[3] = {-1, -1, -1};
  return getloadavg(load, 3) < 0 ? -1 : load[0];
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 1;
  const int pairs = std::max(1, argc > 3 ? std::atoi(argv[3]) : 15);
  set_num_threads(threads);
  set_flush_denormal(true);
  const double load_before = load_average();

  using namespace data::transforms;
  auto tf = Compose(ToTensor(), Normalize({0.2860}, {0.3530}));
  data::datasets::FashionMNIST ds(argc > 4 ? argv[4] : data::datasets::FashionMNIST::kDefaultRoot, true);
  data::DataLoader loader(ds, {.batch_size = 32,
                               .shuffle = true,
                               .num_workers = workers,
                               .seed = 1,
                               .transform = batch_transform(tf)});
  std::vector<data::Example> prebuilt;
  for (auto& b : loader) prebuilt.push_back(b);

  Mlp model;
  optim::Adam opt(model.parameters(), {.lr = 0.001});
  train_epoch(model, opt, prebuilt);  // warm-up: caches, allocator, denormal-free state
  train_epoch(model, opt, loader);
  std::vector<EpochTimes> a, b;
  const data::DataLoaderStats stats_before = loader.stats();
  for (int r = 0; r < pairs; ++r) {
    if (r % 2 == 0) {
      a.push_back(train_epoch(model, opt, prebuilt));
      b.push_back(train_epoch(model, opt, loader));
    } else {
      b.push_back(train_epoch(model, opt, loader));
      a.push_back(train_epoch(model, opt, prebuilt));
    }
  }

  const data::DataLoaderStats st = loader.stats();
  const int64_t from_workers = st.from_workers - stats_before.from_workers,
                built_inline = st.inline_builds - stats_before.inline_builds;

  // What one epoch of batches costs on the calling thread with no training (0 workers): the inline
  // loader's share of an epoch, and the CPU time a worker spends beside the training thread.
  data::DataLoader inline_loader(
      ds, {.batch_size = 32, .shuffle = true, .seed = 1, .transform = batch_transform(tf)});
  std::vector<double> alone;
  for (int r = 0; r < std::max(pairs, 5); ++r) {
    double t0 = now(CLOCK_THREAD_CPUTIME_ID);
    int64_t n = 0;
    for (auto& batch : inline_loader) n += batch.data.size(0);
    alone.push_back(now(CLOCK_THREAD_CPUTIME_ID) - t0);
    if (n != 60000) std::abort();
  }

  auto field = [](const std::vector<EpochTimes>& v, double EpochTimes::*f) {
    std::vector<double> x;
    for (const EpochTimes& e : v) x.push_back(e.*f);
    return spread(x);
  };
  Spread wa = field(a, &EpochTimes::wall), wb = field(b, &EpochTimes::wall);
  Spread ta = field(a, &EpochTimes::thread_cpu), tb = field(b, &EpochTimes::thread_cpu);
  Spread pa = field(a, &EpochTimes::process_cpu), pb = field(b, &EpochTimes::process_cpu);
  Spread ow = spread(overheads(a, b, &EpochTimes::wall));
  Spread ot = spread(overheads(a, b, &EpochTimes::thread_cpu));
  Spread op = spread(overheads(a, b, &EpochTimes::process_cpu));
  Spread fa = field(a, &EpochTimes::fetch), fb = field(b, &EpochTimes::fetch);
  std::vector<double> share;
  for (const EpochTimes& e : a) share.push_back(e.thread_cpu / e.wall);
  const double c = quantile(alone, 0.5);
  const double load_after = load_average();

  std::printf(
      "loader_training_overhead: threads %d, num_workers %d, prefetch %d, %d pairs (A B B A ...), "
      "FTZ/DAZ on\n",
      get_num_threads(), workers, loader.options().prefetch, pairs);
  std::printf(
      "  A prebuilt: %zu batches [32,1,28,28] f32 + [32] i64 read from a vector (%.0f MB, built once)\n",
      prebuilt.size(), prebuilt.size() * 32 * (784 * 4 + 8) / 1e6);
  std::printf(
      "  B loader  : per epoch shuffle 60000 indices; per batch gather 32 uint8 rows + fused "
      "ToTensor+Normalize, %s\n",
      workers ? "built by background workers" : "built on the training thread");
  auto row = [](const char* what, Spread x, Spread y, Spread o, int prec) {
    std::printf(
        "  %-20s A %.*f  B %.*f  overhead median %+6.2f%%  IQR [%+.2f, %+.2f]  range [%+.2f, %+.2f]\n", what,
        prec, x.median, prec, y.median, o.median, o.q1, o.q3, o.lo, o.hi);
  };
  row("wall s/epoch", wa, wb, ow, 4);
  row("train-thread CPU s", ta, tb, ot, 4);
  row("process CPU s", pa, pb, op, 4);
  std::printf(
      "  getting the next batch (wall, training thread): A %.2f us/batch  B %.2f us/batch (IQR %.2f-%.2f)\n",
      1e6 * fa.median / prebuilt.size(), 1e6 * fb.median / prebuilt.size(), 1e6 * fb.q1 / prebuilt.size(),
      1e6 * fb.q3 / prebuilt.size());
  std::printf("  B's batches built by workers %.1f%%, by the training thread %.1f%%\n",
              100.0 * from_workers / std::max<int64_t>(from_workers + built_inline, 1),
              100.0 * built_inline / std::max<int64_t>(from_workers + built_inline, 1));
  std::printf(
      "  samples/s (median wall): A %.0f  B %.0f;  cpu share of A %.3f (min %.3f);  load average "
      "%.2f -> %.2f\n",
      60000 / wa.median, 60000 / wb.median, quantile(share, 0.5), quantile(share, 0), load_before,
      load_after);
  std::printf(
      "  batches alone (inline, no training): %.1f ms CPU/epoch = %.2f us/batch = %.2f%% of A's "
      "training-thread CPU\n",
      1e3 * c, 1e6 * c / prebuilt.size(), 100 * c / ta.median);
  std::printf(
      "RESULT loader_overhead workers=%d threads=%d pairs=%d median_wall_pct=%+.2f iqr=[%+.2f,%+.2f] "
      "median_thread_cpu_pct=%+.2f from_workers_pct=%.1f load=%.2f verdict=%s\n",
      workers, get_num_threads(), pairs, ow.median, ow.q1, ow.q3, ot.median,
      100.0 * from_workers / std::max<int64_t>(from_workers + built_inline, 1), load_after,
      ow.median <= 5.0 ? "PASS(<=5%)" : "FAIL(>5%)");
}
