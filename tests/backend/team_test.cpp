// Team (backend/cpu/team.h): a parallel_for inside with_team splits exactly as outside it, runs
// every chunk once (even when the leader takes chunks over), propagates exceptions, runs nested
// loops inline, and stays correct over many back-to-back jobs.
#include "backend/cpu/team.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "nabla/runtime.h"

namespace nabla::cpu {
namespace {

struct Range {
  int64_t b, e;
  bool operator==(const Range& o) const { return b == o.b && e == o.e; }
  bool operator<(const Range& o) const { return b < o.b; }
};

// The chunks parallel_for hands out, sorted.
std::vector<Range> chunks_of(int64_t n, int64_t grain) {
  std::vector<Range> r;
  std::mutex mu;
  parallel_for(0, n, grain, [&](int64_t b, int64_t e) {
    std::lock_guard<std::mutex> lock(mu);
    r.push_back({b, e});
  });
  std::sort(r.begin(), r.end());
  return r;
}

struct Threads {
  int saved = get_num_threads();
  explicit Threads(int n) { set_num_threads(n); }
  ~Threads() { set_num_threads(saved); }
};

TEST(Team, SplitsLikeAForkAndRunsEachChunkOnce) {
  Threads threads(2);
  for (int64_t n : {1, 7, 100, 1001, 65536}) {
    for (int64_t grain : {1, 16, 32768}) {
      std::vector<Range> plain = chunks_of(n, grain), in_team;
      int64_t jobs = with_team(2, [&] { in_team = chunks_of(n, grain); });
      EXPECT_EQ(plain, in_team) << n << " / " << grain;
      EXPECT_EQ(jobs, in_team.size() > 1 ? 1 : 0) << n << " / " << grain;
    }
  }
}

TEST(Team, ChunkZeroRunsOnTheLeaderAndRowsAlign) {
  Threads threads(2);
  const std::thread::id leader = std::this_thread::get_id();
  std::vector<Range> rows;
  std::mutex mu;
  with_team(2, [&] {
    parallel_for(0, 2, 1, [&](int64_t b, int64_t) {
      if (b == 0) {
        EXPECT_EQ(std::this_thread::get_id(), leader);
      }
    });
    // 64 rows of 784 (the seed MLP's fc1.weight): halves at a row boundary.
    parallel_for_rows(64 * 784, 64, kUpdateGrainSize, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> lock(mu);
      rows.push_back({b, e});
    });
  });
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<Range>{{0, 32 * 784}, {32 * 784, 64 * 784}}));
}

TEST(Team, ManyJobsEveryElementOnce) {
  Threads threads(2);
  std::vector<std::atomic<int>> hits(4096);
  int64_t jobs = with_team(2, [&] {
    for (int k = 0; k < 20000; ++k)
      parallel_for(0, 4096, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
      });
  });
  EXPECT_EQ(jobs, 20000);
  for (auto& h : hits) ASSERT_EQ(h.load(), 20000);
}

TEST(Team, ChunksRunConcurrently) {
  // Chunk 0 (the leader's) waits for chunk 1: only a team thread can have run it.
  Threads threads(2);
  std::atomic<bool> one_done{false};
  with_team(2, [&] {
    parallel_for(0, 2, 1, [&](int64_t b, int64_t) {
      if (b == 1)
        one_done = true;
      else
        while (!one_done) std::this_thread::yield();
    });
  });
  EXPECT_TRUE(one_done);
}

TEST(Team, LeaderRunsChunksNobodyClaims) {
  // Team threads that never answer (descheduled on a busy machine): the leader runs everything.
  Threads threads(2);
  const std::thread::id leader = std::this_thread::get_id();
  std::vector<int> hits(1000);
  pause_team_threads_for_testing(true);
  with_team(2, [&] {
    for (int k = 0; k < 10; ++k)
      parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
        EXPECT_EQ(std::this_thread::get_id(), leader);
        for (int64_t i = b; i < e; ++i) ++hits[i];
      });
  });
  pause_team_threads_for_testing(false);
  for (int h : hits) ASSERT_EQ(h, 10);
}

TEST(Team, NestedLoopsRunInline) {
  Threads threads(2);
  std::atomic<int64_t> sum{0};
  with_team(2, [&] {
    parallel_for(0, 4, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        parallel_for(0, 1000, 1, [&](int64_t bb, int64_t ee) { sum += ee - bb; });
    });
  });
  EXPECT_EQ(sum.load(), 4000);
}

TEST(Team, ExceptionsReachTheCallerAndTheTeamGoesOn) {
  Threads threads(2);
  std::atomic<int> after{0};
  auto body = [&] {
    try {
      parallel_for(0, 2, 1, [&](int64_t b, int64_t) {
        if (b == 1) throw std::runtime_error("chunk 1");
      });
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "chunk 1");
      parallel_for(0, 2, 1, [&](int64_t, int64_t) { ++after; });  // the team still works
      throw;
    }
  };
  EXPECT_THROW(with_team(2, body), std::runtime_error);
  EXPECT_EQ(after.load(), 2);
  EXPECT_THROW(with_team(2, [] { throw std::logic_error("body"); }), std::logic_error);
}

TEST(Team, OneThreadRunsInline) {
  Threads threads(1);
  EXPECT_EQ(with_team(1, [] { EXPECT_EQ((chunks_of(100, 1).size()), 1u); }), 0);
}

}  // namespace
}  // namespace nabla::cpu
