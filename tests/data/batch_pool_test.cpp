// BatchPool (the DataLoader's workers) and its NapPlanner: workers wake themselves on timers,
// the consumer never waits for them, and shutdown interrupts a nap.
#include "data/batch_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "data/data_test_util.h"
#include "data/nap_planner.h"
#include "nabla/creation.h"

using namespace nabla;
using data::Example;
using data::detail::BatchPool;
using data::detail::NapPlanner;
using namespace std::chrono_literals;

namespace {
Example index_batch(int64_t k) { return {full({2}, static_cast<double>(k)), full({}, k, kInt64)}; }
}  // namespace

TEST(NapPlanner, NapsForRefillBatchesAtTheConsumersPace) {
  NapPlanner p;
  const auto t0 = NapPlanner::Clock::now();
  EXPECT_EQ(p.plan(t0, 0, 1), NapPlanner::kFirstNap);  // no estimate yet
  // 10 batches in 1 ms: 100 us per batch; the nap covers `refill` of them.
  EXPECT_EQ(p.plan(t0 + 1ms, 10, 1), 100us);
  EXPECT_DOUBLE_EQ(p.per_batch_ns(), 100'000);
  // 4 more in 800 us (200 us each): the estimate moves a quarter of the way, 125 us; refill 2.
  EXPECT_EQ(p.plan(t0 + 1800us, 14, 2), 250us);
}

TEST(NapPlanner, NoProgressRetriesSoonThenBacksOffToTheCap) {
  NapPlanner p;
  const auto t0 = NapPlanner::Clock::now();
  p.plan(t0, 0, 1);
  p.plan(t0 + 1ms, 10, 1);  // 100 us per batch
  // Woke just before the consumer took a batch: half a batch, then doubling.
  EXPECT_EQ(p.plan(t0 + 1100us, 10, 1), 50us);
  EXPECT_EQ(p.plan(t0 + 1150us, 10, 1), 100us);
  EXPECT_EQ(p.plan(t0 + 1250us, 10, 1), 200us);
  auto t = t0 + 1450us;
  for (int i = 0; i < 30; ++i) EXPECT_LE(p.plan(t += 2ms, 10, 1), NapPlanner::kMaxNap);  // stalled
  EXPECT_EQ(p.plan(t += 2ms, 10, 1), NapPlanner::kMaxNap);
  // The consumer resumes: back to its pace (a long-stall sample is clamped to kMaxNap per batch).
  const auto resumed = p.plan(t + 1ms, 20, 1);
  EXPECT_LE(resumed, NapPlanner::kMaxNap);
  EXPECT_LT(p.per_batch_ns(), 2'000'000);
  // Very fast consumers are clamped to kMinNap (a timer wake-up costs a few us itself).
  NapPlanner fast;
  fast.plan(t0, 0, 1);
  EXPECT_EQ(fast.plan(t0 + 10us, 10, 1), NapPlanner::kMinNap);
}

TEST(BatchPool, WorkersKeepUpWithASlowConsumerWithoutBeingWoken) {
  // next() never notifies; a worker that finds the window full must wake itself in time. With
  // a consumer taking 1 ms per batch and builds taking microseconds, nearly every batch comes
  // from the worker (inline builds only at the start, before the worker has a pace estimate).
  const int64_t batches = 60;
  BatchPool pool(1, 2, batches, index_batch, /*low_priority=*/false, "test pool");
  for (int64_t k = 0; k < batches; ++k) {
    std::optional<Example> b = pool.next();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->target.item<int64_t>(), k);
    std::this_thread::sleep_for(1ms);  // "training"
  }
  EXPECT_FALSE(pool.next().has_value());
  const auto st = pool.stats();
  EXPECT_EQ(st.from_workers + st.inline_builds, batches);
  EXPECT_GT(st.naps, 10) << "the worker should have napped while the window was full";
  EXPECT_GE(st.from_workers, batches * 3 / 4) << "inline " << st.inline_builds;
}

TEST(BatchPool, ConsumerBuildsInlineWhenWorkersAreSlow) {
  // Builds take 100 ms on workers but the consumer does not wait: it builds each batch itself.
  std::thread::id consumer = std::this_thread::get_id();
  auto build = [consumer](int64_t k) {
    if (std::this_thread::get_id() != consumer) std::this_thread::sleep_for(100ms);
    return index_batch(k);
  };
  BatchPool pool(2, 4, 6, build, false, "test pool");
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t k = 0; k < 6; ++k) EXPECT_EQ(pool.next()->target.item<int64_t>(), k);
  EXPECT_FALSE(pool.next().has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_EQ(pool.stats().inline_builds, 6);
}

TEST(BatchPool, ShutdownInterruptsANap) {
  // The consumer stalls long enough for the worker's naps to reach kMaxNap, then abandons the
  // epoch; destruction must not hang (and returns well before a nap would end on its own).
  data_test::run_with_timeout(
      [] {
        for (int rep = 0; rep < 5; ++rep) {
          auto pool = std::make_unique<BatchPool>(2, 2, 1000, index_batch, true, "test pool");
          pool->next();
          std::this_thread::sleep_for(15ms);
          EXPECT_GT(pool->stats().naps, 0);
          pool.reset();
        }
      },
      30, "BatchPool shutdown during a nap");
}

TEST(BatchPool, DemoteAcceptsAnyBatch) {
  // A hint over the batch's own bytes only: undefined, empty, strided and scalar tensors are fine,
  // and the values are untouched.
  Tensor x = arange(0, 12).reshape({3, 4}).to(kFloat32);
  data::detail::demote_to_shared_cache({x, Tensor()});
  data::detail::demote_to_shared_cache({x.transpose(0, 1), full({}, 3, kInt64)});
  data::detail::demote_to_shared_cache({zeros({0, 5}), zeros({0}).to(kInt64)});
  EXPECT_EQ(x.flatten(0).to_vector<float>()[11], 11.0f);
}
