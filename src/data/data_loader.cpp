// DataLoader: one epoch = a Stream over batch numbers, run through the
// OrderedPool.
#include "nabla/data/data_loader.h"

#include "data/ordered_pool.h"
#include "data/seeds.h"
#include "nabla/autograd.h"
#include "nabla/data/batch_generator.h"
#include "nabla/error.h"

namespace nabla::data {
namespace {

thread_local Generator* t_batch_generator = nullptr;

struct EpochStream : detail::Stream {
  detail::OrderedPool<int64_t> pool;
  EpochStream(int workers, int64_t window, detail::OrderedPool<int64_t>::Pull pull,
              detail::OrderedPool<int64_t>::Work work)
      : pool(workers, window, std::move(pull), std::move(work), "DataLoader worker") {}
  std::optional<Example> next() override { return pool.next(); }
};

}  // namespace

Generator* batch_generator() { return t_batch_generator; }

detail::BatchGeneratorScope::BatchGeneratorScope(Generator* g) : prev_(t_batch_generator) {
  t_batch_generator = g;
}
detail::BatchGeneratorScope::~BatchGeneratorScope() { t_batch_generator = prev_; }

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
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
  auto order = std::make_shared<const std::vector<int64_t>>(sampler_->indices(epoch));
  NABLA_CHECK(static_cast<int64_t>(order->size()) == sampler_->size(), "DataLoader: the sampler returned ",
              order->size(), " indices for epoch ", epoch, " but its size() is ", sampler_->size());
  const uint64_t epoch_seed = detail::derive_seed(options_.seed, static_cast<uint64_t>(epoch));
  const int64_t batches = size(), bs = options_.batch_size;
  // pull hands out batch numbers; work builds batch k from its slice of the
  // epoch's order.
  auto pull = [k = int64_t{0}, batches]() mutable -> std::optional<int64_t> {
    if (k >= batches) return std::nullopt;
    return k++;
  };
  auto work = [order, bs, epoch_seed, dataset = dataset_, transform = options_.transform](int64_t k) {
    const int64_t begin = k * bs, end = std::min<int64_t>(begin + bs, order->size());
    std::vector<int64_t> idx(order->begin() + begin, order->begin() + end);
    NoGradGuard no_grad;  // as on worker threads, so batches never depend on num_workers
    Example batch = dataset->get_batch(idx);
    if (!transform) return batch;
    Generator gen(detail::derive_seed(epoch_seed, static_cast<uint64_t>(k)));
    detail::BatchGeneratorScope scope(&gen);
    return transform(std::move(batch));
  };
  const int workers = options_.num_workers;
  const int64_t window = static_cast<int64_t>(workers) * options_.prefetch;
  return Iterator(std::make_shared<EpochStream>(workers, window, std::move(pull), std::move(work)));
}

}  // namespace nabla::data
