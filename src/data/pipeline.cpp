// Pipeline: each operation wraps the upstream Source in a Stream that pulls one
// element at a time.
#include "nabla/data/pipeline.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "data/ordered_pool.h"
#include "data/seeds.h"
#include "nabla/data/collate.h"
#include "nabla/data/tensor_dataset.h"
#include "nabla/error.h"

namespace nabla::data {
namespace {

using detail::Stream;
using StreamPtr = std::unique_ptr<Stream>;

struct DatasetStream : Stream {
  std::shared_ptr<const Dataset> ds;
  int64_t i = 0, n;
  explicit DatasetStream(std::shared_ptr<const Dataset> d) : ds(std::move(d)), n(ds->size()) {}
  std::optional<Example> next() override {
    if (i >= n) return std::nullopt;
    return ds->get(i++);
  }
};

struct GeneratorStream : Stream {
  std::function<std::optional<Example>()> fn;  // this pass's own copy
  bool done = false;
  explicit GeneratorStream(std::function<std::optional<Example>()> f) : fn(std::move(f)) {}
  std::optional<Example> next() override {
    if (done) return std::nullopt;
    std::optional<Example> e = fn();
    done = !e;
    return e;
  }
};

struct ShuffleStream : Stream {
  StreamPtr up;
  int64_t capacity;
  Generator gen;
  std::vector<Example> buffer;
  bool filled = false, up_done = false;
  ShuffleStream(StreamPtr u, int64_t cap, uint64_t seed) : up(std::move(u)), capacity(cap), gen(seed) {}
  std::optional<Example> pull() {
    if (up_done) return std::nullopt;
    std::optional<Example> e = up->next();
    up_done = !e;
    return e;
  }
  std::optional<Example> next() override {
    if (!filled) {
      filled = true;
      while (static_cast<int64_t>(buffer.size()) < capacity) {
        std::optional<Example> e = pull();
        if (!e) break;
        buffer.push_back(std::move(*e));
      }
    }
    if (buffer.empty()) return std::nullopt;
    const size_t i = detail::uniform_below(gen, buffer.size());
    Example out = std::move(buffer[i]);
    if (std::optional<Example> e = pull()) {
      buffer[i] = std::move(*e);
    } else {
      buffer[i] = std::move(buffer.back());
      buffer.pop_back();
    }
    return out;
  }
};

struct MapStream : Stream {
  StreamPtr up;
  Pipeline::MapFn fn;
  MapStream(StreamPtr u, Pipeline::MapFn f) : up(std::move(u)), fn(std::move(f)) {}
  std::optional<Example> next() override {
    std::optional<Example> e = up->next();
    if (!e) return std::nullopt;
    return fn(std::move(*e));
  }
};

/// Background threads over the upstream (prefetch: 1 thread, identity; parallel
/// map: fn).
struct PoolStream : Stream {
  detail::OrderedPool<Example> pool;
  PoolStream(StreamPtr u, int workers, int64_t window, Pipeline::MapFn fn, const char* who)
      : pool(workers, window, make_pull(std::move(u)), std::move(fn), who) {}
  static detail::OrderedPool<Example>::Pull make_pull(StreamPtr u) {
    std::shared_ptr<Stream> up(std::move(u));  // std::function needs a copyable callable
    return [up] { return up->next(); };
  }
  std::optional<Example> next() override { return pool.next(); }
};

struct BatchStream : Stream {
  StreamPtr up;
  int64_t n;
  bool drop_remainder;
  BatchStream(StreamPtr u, int64_t n_, bool d) : up(std::move(u)), n(n_), drop_remainder(d) {}
  std::optional<Example> next() override {
    std::vector<Example> items;
    items.reserve(n);
    while (static_cast<int64_t>(items.size()) < n) {
      std::optional<Example> e = up->next();
      if (!e) break;
      items.push_back(std::move(*e));
    }
    if (items.empty() || (drop_remainder && static_cast<int64_t>(items.size()) < n)) return std::nullopt;
    return collate(items);
  }
};

struct RepeatStream : Stream {
  Pipeline::Source source;
  int64_t count, pass = 0;
  StreamPtr cur;
  bool got_any = false;
  RepeatStream(Pipeline::Source s, int64_t c) : source(std::move(s)), count(c) {}
  std::optional<Example> next() override {
    for (;;) {
      if (!cur) {
        if (count >= 0 && pass >= count) return std::nullopt;
        cur = source();
        got_any = false;
        ++pass;
      }
      if (std::optional<Example> e = cur->next()) {
        got_any = true;
        return e;
      }
      cur.reset();
      if (!got_any) {  // an empty pass: repeating it forever would never yield
        count = pass;
        return std::nullopt;
      }
    }
  }
};

struct TakeStream : Stream {
  StreamPtr up;
  int64_t left;
  TakeStream(StreamPtr u, int64_t n) : up(std::move(u)), left(n) {}
  std::optional<Example> next() override {
    if (left == 0) {
      up.reset();  // stop upstream background work as soon as possible
      return std::nullopt;
    }
    std::optional<Example> e = up->next();
    if (e && left > 0) --left;
    return e;
  }
};

struct CacheState {
  std::mutex mu;
  bool complete = false;
  std::shared_ptr<const std::vector<Example>> items;
};

struct CacheStream : Stream {
  std::shared_ptr<CacheState> state;
  StreamPtr up;  // null when replaying
  std::vector<Example> recorded;
  std::shared_ptr<const std::vector<Example>> replay;
  size_t pos = 0;
  std::optional<Example> next() override {
    if (replay) {
      if (pos >= replay->size()) return std::nullopt;
      return (*replay)[pos++];
    }
    if (!up) return std::nullopt;
    std::optional<Example> e = up->next();
    if (e) {
      recorded.push_back(*e);
      return e;
    }
    up.reset();
    std::lock_guard<std::mutex> lk(state->mu);
    if (!state->complete) {  // only a complete pass is kept (a partial one would
                             // drop elements)
      state->items = std::make_shared<const std::vector<Example>>(std::move(recorded));
      state->complete = true;
    }
    return std::nullopt;
  }
};

}  // namespace

Pipeline::Pipeline(Source source) : source_(std::move(source)) {
  NABLA_CHECK(source_ != nullptr, "Pipeline: empty source");
}

Pipeline Pipeline::from_tensors(const Tensor& x, const Tensor& y) {
  return from_dataset(std::make_shared<const TensorDataset>(x, y));
}

Pipeline Pipeline::from_dataset(std::shared_ptr<const Dataset> dataset) {
  NABLA_CHECK(dataset != nullptr, "Pipeline::from_dataset: dataset is null");
  return Pipeline([dataset]() -> StreamPtr { return std::make_unique<DatasetStream>(dataset); });
}

Pipeline Pipeline::from_generator(std::function<std::optional<Example>()> next) {
  NABLA_CHECK(next != nullptr, "Pipeline::from_generator: empty function");
  return Pipeline([next]() -> StreamPtr { return std::make_unique<GeneratorStream>(next); });
}

Pipeline Pipeline::shuffle(int64_t buffer_size, uint64_t seed) const {
  NABLA_CHECK(buffer_size >= 1, "Pipeline::shuffle: buffer_size must be >= 1, got ", buffer_size);
  auto passes = std::make_shared<std::atomic<uint64_t>>(0);
  return Pipeline([up = source_, buffer_size, seed, passes]() -> StreamPtr {
    return std::make_unique<ShuffleStream>(up(), buffer_size,
                                           detail::derive_seed(seed, passes->fetch_add(1)));
  });
}

Pipeline Pipeline::map(MapFn fn, int num_parallel_calls) const {
  NABLA_CHECK(fn != nullptr, "Pipeline::map: empty function");
  NABLA_CHECK(num_parallel_calls >= 0, "Pipeline::map: num_parallel_calls must be >= 0, got ",
              num_parallel_calls);
  if (num_parallel_calls == 0)
    return Pipeline([up = source_, fn]() -> StreamPtr { return std::make_unique<MapStream>(up(), fn); });
  return Pipeline([up = source_, fn, num_parallel_calls]() -> StreamPtr {
    return std::make_unique<PoolStream>(up(), num_parallel_calls, 2 * int64_t{num_parallel_calls}, fn,
                                        "Pipeline map worker");
  });
}

Pipeline Pipeline::batch(int64_t n, bool drop_remainder) const {
  NABLA_CHECK(n >= 1, "Pipeline::batch: batch size must be >= 1, got ", n);
  return Pipeline([up = source_, n, drop_remainder]() -> StreamPtr {
    return std::make_unique<BatchStream>(up(), n, drop_remainder);
  });
}

Pipeline Pipeline::prefetch(int64_t buffer_size) const {
  NABLA_CHECK(buffer_size >= 1, "Pipeline::prefetch: buffer_size must be >= 1, got ", buffer_size);
  return Pipeline([up = source_, buffer_size]() -> StreamPtr {
    return std::make_unique<PoolStream>(
        up(), 1, buffer_size, [](Example e) { return e; }, "Pipeline prefetch");
  });
}

Pipeline Pipeline::repeat(int64_t count) const {
  NABLA_CHECK(count >= -1, "Pipeline::repeat: count must be >= -1 (-1 = forever), got ", count);
  return Pipeline([up = source_, count]() -> StreamPtr { return std::make_unique<RepeatStream>(up, count); });
}

Pipeline Pipeline::take(int64_t n) const {
  return Pipeline(
      [up = source_, n]() -> StreamPtr { return std::make_unique<TakeStream>(n == 0 ? nullptr : up(), n); });
}

Pipeline Pipeline::cache() const {
  auto state = std::make_shared<CacheState>();
  return Pipeline([up = source_, state]() -> StreamPtr {
    auto s = std::make_unique<CacheStream>();
    s->state = state;
    {
      std::lock_guard<std::mutex> lk(state->mu);
      if (state->complete) s->replay = state->items;
    }
    if (!s->replay) s->up = up();
    return s;
  });
}

Pipeline::Iterator Pipeline::begin() const { return Iterator(std::shared_ptr<Stream>(source_())); }

}  // namespace nabla::data
