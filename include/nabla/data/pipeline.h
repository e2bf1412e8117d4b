// Pipeline: tf.data-style chains, lazy and streaming (elements are pulled one
// at a time).
//   auto train = nabla::data::Pipeline::from_tensors(x, y)
//                    .shuffle(10000, /*seed=*/1)      // bounded buffer, as
//                    tf.data .map([](nabla::data::Example e) { e.data = e.data
//                    / 255.0; return e; }) .batch(64) .prefetch(2); // a
//                    background thread stays 2 batches ahead
//   for (auto& [xb, yb] : train) { ... }             // each range-for is one
//   pass (epoch)
//
// Nothing runs until iteration: a map is applied only to elements that are
// read, and only shuffle's buffer (plus prefetch's queue) is held in memory, so
// from_generator can stream a dataset larger than memory from disk. Each pass
// re-creates the chain: shuffle draws a new order per pass (pass p of seed s is
// always the same), and from_generator restarts from a copy of the callable.
// Copying a Pipeline is cheap; copies share cache() contents.
#pragma once
#include <concepts>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>

#include "nabla/data/dataset.h"
#include "nabla/data/detail/stream.h"

namespace nabla::data {

class Pipeline {
 public:
  using Iterator = detail::StreamIterator;
  /// Makes a fresh single pass over the elements.
  using Source = std::function<std::unique_ptr<detail::Stream>()>;
  using MapFn = std::function<Example(Example)>;

  explicit Pipeline(Source source);

  /// Rows of x and y along dim 0 (y optional), through a TensorDataset.
  static Pipeline from_tensors(const Tensor& x, const Tensor& y = {});
  /// dataset.get(0), get(1), ... in order (the same Dataset interface a
  /// DataLoader reads).
  static Pipeline from_dataset(std::shared_ptr<const Dataset> dataset);
  template <typename D>
  requires std::derived_from<std::remove_cvref_t<D>, Dataset>
  static Pipeline from_dataset(D&& dataset) {
    return from_dataset(
        std::shared_ptr<const Dataset>(std::make_shared<std::remove_cvref_t<D>>(std::forward<D>(dataset))));
  }
  /// Elements from `next()` until it returns nullopt. Each pass calls a fresh
  /// copy of `next`, so a `mutable` lambda restarts from its captured state
  /// (e.g. re-opens its file) every epoch.
  static Pipeline from_generator(std::function<std::optional<Example>()> next);

  /// Fills a buffer of `buffer_size` elements and emits a random one, refilling
  /// from upstream (tf.data semantics: buffer 1 = no shuffle, buffer >= size =
  /// full shuffle).
  Pipeline shuffle(int64_t buffer_size, uint64_t seed = 0) const;
  /// Applies fn to each element when it is read. num_parallel_calls > 0 runs fn
  /// on that many background threads, keeping the order.
  Pipeline map(MapFn fn, int num_parallel_calls = 0) const;
  /// Stacks n consecutive elements (collate); the last smaller batch is kept
  /// unless drop_remainder.
  Pipeline batch(int64_t n, bool drop_remainder = false) const;
  /// A background thread keeps up to `buffer_size` elements ready ahead of the
  /// reader.
  Pipeline prefetch(int64_t buffer_size) const;
  /// Passes over the upstream `count` times (-1: forever; stops if a pass is
  /// empty).
  Pipeline repeat(int64_t count = -1) const;
  /// At most n elements (n < 0: all). Elements past n are never pulled from
  /// upstream.
  Pipeline take(int64_t n) const;
  /// Keeps the elements of the first complete pass in memory and replays them
  /// afterwards.
  Pipeline cache() const;

  /// Starts a pass.
  Iterator begin() const;
  std::default_sentinel_t end() const { return {}; }

 private:
  Source source_;
};

}  // namespace nabla::data
