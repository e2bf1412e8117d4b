// Sequential, random and distributed samplers.
#include "nabla/data/samplers.h"

#include <numeric>

#include "data/seeds.h"
#include "nabla/error.h"

namespace nabla::data {
namespace {
std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}
std::vector<int64_t> permutation(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> v = iota(n);
  Generator g(detail::derive_seed(seed, static_cast<uint64_t>(epoch)));
  detail::shuffle(v, g);
  return v;
}
}  // namespace

SequentialSampler::SequentialSampler(int64_t n) : n_(n) {
  NABLA_CHECK(n >= 0, "SequentialSampler: size must be >= 0, got ", n);
}
std::vector<int64_t> SequentialSampler::indices(int64_t) const { return iota(n_); }

RandomSampler::RandomSampler(int64_t n, uint64_t seed) : n_(n), seed_(seed) {
  NABLA_CHECK(n >= 0, "RandomSampler: size must be >= 0, got ", n);
}
std::vector<int64_t> RandomSampler::indices(int64_t epoch) const { return permutation(n_, seed_, epoch); }

DistributedSampler::DistributedSampler(int64_t n, int64_t num_replicas, int64_t rank, bool shuffle,
                                       uint64_t seed, bool drop_last)
    : n_(n), replicas_(num_replicas), rank_(rank), shuffle_(shuffle), seed_(seed), drop_last_(drop_last) {
  NABLA_CHECK(n >= 0, "DistributedSampler: size must be >= 0, got ", n);
  NABLA_CHECK(num_replicas >= 1, "DistributedSampler: num_replicas must be >= 1, got ", num_replicas);
  NABLA_CHECK(rank >= 0 && rank < num_replicas, "DistributedSampler: rank ", rank, " out of range [0, ",
              num_replicas, ")");
  // torch: with drop_last the tail that cannot be split evenly is dropped, else
  // it is padded.
  per_rank_ = (drop_last && n % num_replicas != 0) ? n / num_replicas : (n + num_replicas - 1) / num_replicas;
}

std::vector<int64_t> DistributedSampler::indices(int64_t epoch) const {
  std::vector<int64_t> order = shuffle_ ? permutation(n_, seed_, epoch) : iota(n_);
  const int64_t total = per_rank_ * replicas_;
  if (n_ > 0) {
    // Pad by wrapping around (several times when n < num_replicas), as torch
    // does.
    for (int64_t i = n_; i < total; ++i) order.push_back(order[i % n_]);
  }
  order.resize(total);
  std::vector<int64_t> mine;
  mine.reserve(per_rank_);
  for (int64_t i = rank_; i < total; i += replicas_) mine.push_back(order[i]);
  return mine;
}

}  // namespace nabla::data
