// Pipeline: laziness, shuffle buffer, batch, repeat/take/cache, from_generator,
// prefetch.
#include "nabla/data/pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "data/data_test_util.h"
#include "nabla/creation.h"
#include "nabla/ops.h"
#include "nabla/runtime.h"

using namespace nabla;
using data::Example;
using data::Pipeline;

namespace {
Pipeline range_pipeline(int64_t n) { return Pipeline::from_tensors(arange(0, n).to(kFloat32), arange(0, n)); }

/// Targets of every element of one pass, flattened.
std::vector<int64_t> targets(const Pipeline& p) {
  std::vector<int64_t> out;
  for (auto& [x, y] : p)
    for (int64_t v : y.to_vector<int64_t>()) out.push_back(v);
  return out;
}
std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}
}  // namespace

TEST(Pipeline, FromTensorsAndBatch) {
  EXPECT_EQ(targets(range_pipeline(7)), iota(7));
  std::vector<int64_t> sizes;
  for (auto& [x, y] : range_pipeline(10).batch(4)) {
    sizes.push_back(x.size(0));
    EXPECT_EQ(x.to(kInt64).to_vector<int64_t>(), y.to_vector<int64_t>());
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  sizes.clear();
  for (auto& [x, y] : range_pipeline(10).batch(4, /*drop_remainder=*/true)) sizes.push_back(x.size(0));
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4}));
  EXPECT_THROW(range_pipeline(3).batch(0), Error);
}

TEST(Pipeline, MapIsLazy) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto p = range_pipeline(100).map([calls](Example e) {
    ++*calls;
    e.data = e.data * 2.0;
    return e;
  });
  EXPECT_EQ(calls->load(), 0) << "building the chain runs nothing";
  auto first = targets(p.take(3));
  EXPECT_EQ(first, iota(3));
  EXPECT_EQ(calls->load(), 3) << "map ran on elements never read";
  *calls = 0;
  int n = 0;
  for (auto& [x, y] : p.batch(4).take(2)) n += x.size(0);
  EXPECT_EQ(n, 8);
  EXPECT_EQ(calls->load(), 8);
  *calls = 0;
  for (auto& [x, y] : p) {
    EXPECT_FLOAT_EQ(x.item<float>(), 2.0f * y.item<int64_t>());
    break;
  }
  EXPECT_EQ(calls->load(), 1);
}

TEST(Pipeline, ShuffleBufferSemantics) {
  EXPECT_EQ(targets(range_pipeline(20).shuffle(1, 5)), iota(20)) << "buffer 1 = no shuffle";
  auto p = range_pipeline(50).shuffle(3, 5);
  auto a = targets(p);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, iota(50));
  EXPECT_NE(a, iota(50));
  // With a buffer of b, output j can only come from the first j + b inputs
  // (bounded memory).
  for (size_t j = 0; j < a.size(); ++j) EXPECT_LT(a[j], static_cast<int64_t>(j) + 3);
  // Each pass reshuffles; a rebuilt pipeline with the same seed replays the
  // same passes.
  auto b = targets(p);
  EXPECT_NE(a, b);
  auto q = range_pipeline(50).shuffle(3, 5);
  EXPECT_EQ(targets(q), a);
  EXPECT_EQ(targets(q), b);
  auto full = targets(range_pipeline(50).shuffle(1000, 1));
  EXPECT_EQ(full.size(), 50u);
}

TEST(Pipeline, RepeatTakeCache) {
  EXPECT_EQ(targets(range_pipeline(4).repeat(3)).size(), 12u);
  auto forever = targets(range_pipeline(4).repeat().take(10));
  EXPECT_EQ(forever, (std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1}));
  EXPECT_EQ(targets(range_pipeline(4).take(-1)), iota(4));
  EXPECT_TRUE(targets(range_pipeline(4).take(0)).empty());
  // repeat() over an empty source ends instead of looping forever.
  EXPECT_TRUE(targets(range_pipeline(4).take(0).repeat()).empty());
  // Shuffle then repeat: each repetition is a new order.
  auto rep = targets(range_pipeline(30).shuffle(30, 2).repeat(2));
  EXPECT_NE(std::vector<int64_t>(rep.begin(), rep.begin() + 30),
            std::vector<int64_t>(rep.begin() + 30, rep.end()));

  auto calls = std::make_shared<std::atomic<int>>(0);
  auto cached = range_pipeline(6)
                    .map([calls](Example e) {
                      ++*calls;
                      return e;
                    })
                    .cache();
  targets(cached.take(2));  // a partial pass is not cached
  EXPECT_EQ(calls->load(), 2);
  auto first = targets(cached);
  EXPECT_EQ(calls->load(), 8);
  EXPECT_EQ(targets(cached), first);
  EXPECT_EQ(targets(cached.repeat(3)).size(), 18u);
  EXPECT_EQ(calls->load(), 8) << "later passes replay the cache";
}

TEST(Pipeline, FromGeneratorStreams) {
  // A "dataset" of a million elements that is never materialised: shuffle holds
  // 100 of them.
  auto produced = std::make_shared<std::atomic<int64_t>>(0);
  auto p = Pipeline::from_generator([produced, i = int64_t{0}]() mutable -> std::optional<Example> {
    if (i >= 1000000) return std::nullopt;
    ++*produced;
    return Example{full({3}, static_cast<double>(i)), full({}, i++, kInt64)};
  });
  auto got = targets(p.shuffle(100, 1).batch(10).take(5));
  EXPECT_EQ(got.size(), 50u);
  EXPECT_LE(produced->load(), 150);
  for (size_t j = 0; j < got.size(); ++j) EXPECT_LT(got[j], static_cast<int64_t>(j) + 100);
  // Each pass restarts from a fresh copy of the generator.
  EXPECT_EQ(targets(p.take(3)), iota(3));
  EXPECT_EQ(targets(p.take(3)), iota(3));
  // Unlabelled elements batch to an undefined target.
  auto only_x = Pipeline::from_generator([i = 0]() mutable -> std::optional<Example> {
    if (i++ == 5) return std::nullopt;
    return Example{zeros({2}), Tensor()};
  });
  for (auto& [x, y] : only_x.batch(5)) {
    EXPECT_EQ(x.shape(), Shape({5, 2}));
    EXPECT_FALSE(y.defined());
  }
}

TEST(Pipeline, PrefetchAndParallelMapKeepOrder) {
  auto slow = [](Example e) {
    std::this_thread::sleep_for(std::chrono::microseconds((e.target.item<int64_t>() * 31) % 7 * 100));
    e.data = e.data + 1.0;
    return e;
  };
  auto ref = targets(range_pipeline(40).map(slow).batch(4));
  EXPECT_EQ(targets(range_pipeline(40).map(slow).batch(4).prefetch(2)), ref);
  EXPECT_EQ(targets(range_pipeline(40).map(slow, 3).batch(4).prefetch(1)), ref);
  for (auto& [x, y] : range_pipeline(40).map(slow, 4))
    EXPECT_FLOAT_EQ(x.item<float>(), static_cast<float>(y.item<int64_t>() + 1));
}

TEST(Pipeline, ErrorsAndEarlyBreakWithBackgroundThreads) {
  auto failing = Pipeline::from_generator([i = 0]() mutable -> std::optional<Example> {
    if (i == 7) throw Error("reader: corrupt record 7");
    return Example{full({1}, double(i)), full({}, int64_t{i++}, kInt64)};
  });
  try {
    targets(failing.prefetch(3));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Pipeline prefetch: reader: corrupt record 7");
  }
  EXPECT_THROW(targets(failing), Error);
  set_flush_denormal(true);
  const int threads_before = data_test::thread_count();
  data_test::run_with_timeout(
      [] {
        auto p = range_pipeline(10).repeat().map([](Example e) { return e; }, 2).prefetch(4);
        for (int rep = 0; rep < 3; ++rep) {
          int n = 0;
          for (auto& [x, y] : p)
            if (++n == 25) break;
          EXPECT_EQ(n, 25);
        }
      },
      30, "Pipeline early break");
  EXPECT_EQ(data_test::thread_count(), threads_before);
}
