// DataLoader: batches from a Dataset, shuffled per epoch, built by background
// workers.
//   nabla::data::TensorDataset ds(x, y);
//   nabla::data::DataLoader loader(ds, {.batch_size = 64, .shuffle = true,
//   .num_workers = 2}); for (int epoch = 0; epoch < 10; ++epoch)
//     for (auto& [data, target] : loader) { ... }   // each range-for is one
//     epoch
//
// Batches are produced in parallel but delivered in order: for a given seed the
// batches are the same whatever num_workers is. The loop never blocks on a worker
// and never wakes one: a batch that is not ready is built on the calling thread (the
// worker's copy is dropped), and workers with a full prefetch window nap on timers
// (docs/data_loading.md says why, and how to choose num_workers). Each epoch reshuffles
// (epoch e of seed s is always the same order). A worker's exception is re-thrown in the
// loop as nabla::Error("DataLoader worker: ..."). Leaving the loop early
// (break, exception) stops and joins the workers. Random augmentation in
// `transform` should draw from data::batch_generator() (seeded per batch) to
// stay reproducible.
#pragma once
#include <concepts>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <type_traits>

#include "nabla/data/dataset.h"
#include "nabla/data/detail/stream.h"
#include "nabla/data/samplers.h"

namespace nabla::data {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  /// Reshuffle every epoch (a RandomSampler seeded with `seed`). Exclusive with
  /// `sampler`.
  bool shuffle = false;
  /// Drop the last batch when it is smaller than batch_size.
  bool drop_last = false;
  /// Background threads building batches (0: built on the calling thread when
  /// asked for). Each worker's ops run single-threaded, so workers never
  /// oversubscribe the cores. Choosing: docs/data_loading.md; stats() shows whether
  /// the workers built the batches.
  int num_workers = 0;
  uint64_t seed = 0;
  /// Batches each worker may build ahead of the loop (torch's prefetch_factor).
  int prefetch = 2;
  /// Run workers at the lowest scheduling priority (nice 19, Linux): they use CPU time the training
  /// thread leaves idle and never take turns with it on a shared core. The loop never waits for a
  /// worker: a batch not ready yet is built on the calling thread.
  bool low_priority_workers = true;
  /// Applied to each collated batch, in the worker (e.g. ToTensor + Normalize);
  /// see batch_generator().
  std::function<Example(Example)> transform;
  /// Custom index order (e.g. DistributedSampler); called with the loader's
  /// epoch count.
  std::shared_ptr<const Sampler> sampler;
};

namespace detail {
struct LoaderCounters;
}

/// Who built the batches of the epochs run so far (an epoch counts once its iterator is gone).
/// Mostly `inline_builds` with num_workers > 0 means the workers got no CPU time in time (a busy
/// machine): the loop then built the batches itself, as with num_workers = 0.
struct DataLoaderStats {
  int64_t from_workers = 0;   ///< built ahead by a background worker
  int64_t inline_builds = 0;  ///< built by the loop's own thread when asked for
};

class DataLoader {
 public:
  using Iterator = detail::StreamIterator;

  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});
  /// Copies (or moves) the dataset into the loader; datasets are usually cheap
  /// handles to tensors.
  template <typename D>
  requires std::derived_from<std::remove_cvref_t<D>, Dataset> DataLoader(D&& dataset,
                                                                         DataLoaderOptions options = {})
      : DataLoader(std::make_shared<std::remove_cvref_t<D>>(std::forward<D>(dataset)), std::move(options)) {}

  /// Batches per epoch.
  int64_t size() const;
  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }
  /// The epoch the next begin() runs (each begin() starts an epoch and advances
  /// this).
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  /// Where the batches of finished epochs were built (see DataLoaderStats).
  DataLoaderStats stats() const;

  /// Starts an epoch: fixes its index order and starts the workers.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  std::shared_ptr<const Sampler> sampler_;
  int64_t epoch_ = 0;
  std::shared_ptr<detail::LoaderCounters> counters_;
};

}  // namespace nabla::data
