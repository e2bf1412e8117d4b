// Sequential, random and distributed samplers.
#include "nabla/data/samplers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "nabla/error.h"

using namespace nabla;
using data::DistributedSampler;
using data::RandomSampler;
using data::SequentialSampler;

namespace {
bool is_permutation_of_iota(std::vector<int64_t> v, int64_t n) {
  std::sort(v.begin(), v.end());
  std::vector<int64_t> ref(n);
  std::iota(ref.begin(), ref.end(), 0);
  return v == ref;
}
}  // namespace

TEST(Samplers, Sequential) {
  SequentialSampler s(5);
  EXPECT_EQ(s.size(), 5);
  EXPECT_EQ(s.indices(3), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_THROW(SequentialSampler(-1), Error);
}

TEST(Samplers, RandomIsReproduciblePerEpoch) {
  RandomSampler a(100, 42), b(100, 42), c(100, 43);
  EXPECT_TRUE(is_permutation_of_iota(a.indices(0), 100));
  EXPECT_EQ(a.indices(0), b.indices(0));
  EXPECT_EQ(a.indices(5), b.indices(5));
  EXPECT_NE(a.indices(0), a.indices(1));  // a new permutation each epoch
  EXPECT_NE(a.indices(0), c.indices(0));  // and per seed
  a.set_epoch(5);
  EXPECT_EQ(a.indices(), b.indices(5));
  EXPECT_TRUE(RandomSampler(0, 1).indices(0).empty());
}

TEST(Samplers, DistributedMatchesTorchWithoutShuffle) {
  // torch.utils.data.DistributedSampler(range(10), num_replicas=3, rank=r,
  // shuffle=False)
  std::vector<std::vector<int64_t>> expect = {{0, 3, 6, 9}, {1, 4, 7, 0}, {2, 5, 8, 1}};
  for (int r = 0; r < 3; ++r) {
    DistributedSampler s(10, 3, r, /*shuffle=*/false);
    EXPECT_EQ(s.size(), 4);
    EXPECT_EQ(s.indices(0), expect[r]) << "rank " << r;
  }
  // drop_last: 10 // 3 = 3 each, the tail (index 9) dropped.
  std::vector<std::vector<int64_t>> dropped = {{0, 3, 6}, {1, 4, 7}, {2, 5, 8}};
  for (int r = 0; r < 3; ++r) EXPECT_EQ(DistributedSampler(10, 3, r, false, 0, true).indices(0), dropped[r]);
  // Fewer examples than replicas: padding wraps around several times.
  EXPECT_EQ(DistributedSampler(2, 5, 4, false).indices(0), (std::vector<int64_t>{0}));
}

TEST(Samplers, DistributedPartitions) {
  for (bool divisible : {true, false}) {
    const int64_t n = divisible ? 120 : 101, R = 4;
    for (int64_t epoch : {0, 1}) {
      std::vector<int64_t> all;
      std::set<int64_t> seen;
      for (int64_t r = 0; r < R; ++r) {
        DistributedSampler s(n, R, r, /*shuffle=*/true, /*seed=*/9);
        s.set_epoch(epoch);
        auto mine = s.indices();
        EXPECT_EQ(static_cast<int64_t>(mine.size()), (n + R - 1) / R);
        all.insert(all.end(), mine.begin(), mine.end());
        seen.insert(mine.begin(), mine.end());
      }
      EXPECT_EQ(static_cast<int64_t>(seen.size()), n) << "union covers every index";
      if (divisible) EXPECT_EQ(static_cast<int64_t>(all.size()), n) << "ranks are disjoint";
    }
  }
  // Same epoch -> same order on every rank (so the shards fit together); epochs
  // differ.
  DistributedSampler a(50, 2, 0, true, 3), b(50, 2, 0, true, 3);
  EXPECT_EQ(a.indices(2), b.indices(2));
  EXPECT_NE(a.indices(0), a.indices(1));
}

TEST(Samplers, DistributedErrors) {
  EXPECT_THROW(DistributedSampler(10, 0, 0), Error);
  EXPECT_THROW(DistributedSampler(10, 2, 2), Error);
  EXPECT_THROW(DistributedSampler(10, 2, -1), Error);
}
