// DataLoader: one epoch = a Stream over batch numbers, run through the
// OrderedPool.
#include "nabla/data/data_loader.h"

#include <atomic>
#include <span>

#include "data/batch_pool.h"
#include "data/seeds.h"
#include "nabla/autograd.h"
#include "nabla/data/batch_generator.h"
#include "nabla/error.h"

namespace nabla::data {

// Epoch streams add their counts here when they end (an epoch may outlive a copy of the loader).
struct detail::LoaderCounters {
  std::atomic<int64_t> from_workers{0}, inline_builds{0};
};

namespace {

thread_local Generator* t_batch_generator = nullptr;

// What every batch of one epoch is built from; build(k) is a pure function of k, so batch k is the
// same whichever thread builds it.
struct EpochPlan {
  std::shared_ptr<const Dataset> dataset;
  std::vector<int64_t> order;
  std::function<Example(Example)> transform;
  uint64_t epoch_seed = 0;
  int64_t batch_size = 1, batches = 0;

  std::span<const int64_t> slice(int64_t k) const {
    const int64_t begin = k * batch_size, end = std::min<int64_t>(begin + batch_size, order.size());
    return {order.data() + begin, static_cast<size_t>(end - begin)};
  }
  // `idx` is scratch space, reused across calls by the caller.
  Example build(int64_t k, std::vector<int64_t>& idx) const {
    std::span<const int64_t> s = slice(k);
    idx.assign(s.begin(), s.end());
    NoGradGuard no_grad;  // as on worker threads, so batches never depend on num_workers
    Example batch = dataset->get_batch(idx);
    if (!transform) return batch;
    Generator gen(detail::derive_seed(epoch_seed, static_cast<uint64_t>(k)));
    detail::BatchGeneratorScope scope(&gen);
    return transform(std::move(batch));
  }
};

// num_workers == 0: batch k is built on the caller's thread when asked for. Before returning it,
// the rows of batch k + 1 are prefetched so that their loads overlap the caller's training step.
struct InlineEpochStream : detail::Stream {
  std::shared_ptr<const EpochPlan> plan;
  std::shared_ptr<detail::LoaderCounters> counters;
  std::vector<int64_t> idx;
  int64_t k = 0;
  InlineEpochStream(std::shared_ptr<const EpochPlan> p, std::shared_ptr<detail::LoaderCounters> c)
      : plan(std::move(p)), counters(std::move(c)) {
    if (plan->batches > 0) plan->dataset->prefetch(plan->slice(0));
  }
  ~InlineEpochStream() override { counters->inline_builds += k; }
  std::optional<Example> next() override {
    if (k >= plan->batches) return std::nullopt;
    Example batch = plan->build(k++, idx);
    if (k < plan->batches) plan->dataset->prefetch(plan->slice(k));
    return batch;
  }
};

struct PooledEpochStream : detail::Stream {
  detail::BatchPool pool;
  std::shared_ptr<detail::LoaderCounters> counters;
  PooledEpochStream(int workers, int64_t window, int64_t batches, detail::BatchPool::Build build,
                    bool low_priority, std::shared_ptr<detail::LoaderCounters> c)
      : pool(workers, window, batches, std::move(build), low_priority, "DataLoader worker"),
        counters(std::move(c)) {}
  ~PooledEpochStream() override {
    const detail::BatchPoolStats st = pool.stats();
    counters->from_workers += st.from_workers;
    counters->inline_builds += st.inline_builds;
  }
  std::optional<Example> next() override { return pool.next(); }
};

}  // namespace

Generator* batch_generator() { return t_batch_generator; }

detail::BatchGeneratorScope::BatchGeneratorScope(Generator* g) : prev_(t_batch_generator) {
  t_batch_generator = g;
}
detail::BatchGeneratorScope::~BatchGeneratorScope() { t_batch_generator = prev_; }

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)),
      options_(std::move(options)),
      counters_(std::make_shared<detail::LoaderCounters>()) {
  NABLA_CHECK(dataset_ != nullptr, "DataLoader: dataset is null");
  NABLA_CHECK(options_.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", options_.batch_size);
  NABLA_CHECK(options_.num_workers >= 0, "DataLoader: num_workers must be >= 0, got ", options_.num_workers);
  NABLA_CHECK(options_.prefetch >= 1, "DataLoader: prefetch must be >= 1, got ", options_.prefetch);
  NABLA_CHECK(!(options_.shuffle && options_.sampler),
              "DataLoader: shuffle=true and a sampler are exclusive "
              "(shuffle with the sampler instead)");
  const int64_t n = dataset_->size();
  if (options_.sampler) {
    sampler_ = options_.sampler;
  } else if (options_.shuffle) {
    sampler_ = std::make_shared<RandomSampler>(n, options_.seed);
  } else {
    sampler_ = std::make_shared<SequentialSampler>(n);
  }
}

int64_t DataLoader::size() const {
  const int64_t n = sampler_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

DataLoader::Iterator DataLoader::begin() {
  const int64_t epoch = epoch_++;
  auto plan = std::make_shared<EpochPlan>();
  plan->order = sampler_->indices(epoch);
  NABLA_CHECK(static_cast<int64_t>(plan->order.size()) == sampler_->size(),
              "DataLoader: the sampler returned ", plan->order.size(), " indices for epoch ", epoch,
              " but its size() is ", sampler_->size());
  plan->dataset = dataset_;
  plan->transform = options_.transform;
  plan->epoch_seed = detail::derive_seed(options_.seed, static_cast<uint64_t>(epoch));
  plan->batch_size = options_.batch_size;
  plan->batches = size();
  const int workers = options_.num_workers;
  if (workers == 0) return Iterator(std::make_shared<InlineEpochStream>(std::move(plan), counters_));
  const int64_t batches = plan->batches;
  auto build = [plan = std::shared_ptr<const EpochPlan>(std::move(plan))](int64_t k) {
    thread_local std::vector<int64_t> idx;  // each thread's own scratch
    return plan->build(k, idx);
  };
  const int64_t window = static_cast<int64_t>(workers) * options_.prefetch;
  return Iterator(std::make_shared<PooledEpochStream>(workers, window, batches, std::move(build),
                                                      options_.low_priority_workers, counters_));
}

DataLoaderStats DataLoader::stats() const {
  return {counters_->from_workers.load(), counters_->inline_builds.load()};
}

}  // namespace nabla::data
