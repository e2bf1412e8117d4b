// Samplers: the order in which a DataLoader visits a dataset's indices, one
// list per epoch.
//   nabla::data::RandomSampler s(60000, /*seed=*/42);
//   auto order = s.indices(3);           // epoch 3 of seed 42: always the same
//   permutation nabla::data::DistributedSampler d(60000, /*num_replicas=*/4,
//   /*rank=*/1); d.set_epoch(epoch);                  // then d.indices(): this
//   rank's quarter, reshuffled
#pragma once
#include <cstdint>
#include <vector>

namespace nabla::data {

class Sampler {
 public:
  virtual ~Sampler() = default;
  /// Number of indices per epoch.
  virtual int64_t size() const = 0;
  /// The indices for `epoch`. A pure function of the sampler's settings and the
  /// epoch, so it is reproducible and safe to call from several threads.
  virtual std::vector<int64_t> indices(int64_t epoch) const = 0;
  /// Epoch used by indices() (torch's DistributedSampler.set_epoch). A
  /// DataLoader passes its own epoch count to indices(epoch) instead.
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  int64_t epoch() const { return epoch_; }
  std::vector<int64_t> indices() const { return indices(epoch_); }

 private:
  int64_t epoch_ = 0;
};

/// 0, 1, ..., n-1 every epoch.
class SequentialSampler : public Sampler {
 public:
  explicit SequentialSampler(int64_t n);
  int64_t size() const override { return n_; }
  std::vector<int64_t> indices(int64_t epoch) const override;
  using Sampler::indices;

 private:
  int64_t n_;
};

/// A new permutation of 0..n-1 each epoch; epoch e of seed s is always the same
/// permutation.
class RandomSampler : public Sampler {
 public:
  explicit RandomSampler(int64_t n, uint64_t seed = 0);
  int64_t size() const override { return n_; }
  std::vector<int64_t> indices(int64_t epoch) const override;
  using Sampler::indices;

 private:
  int64_t n_;
  uint64_t seed_;
};

/// This rank's share of 0..n-1 for data-parallel training, as torch's
/// DistributedSampler: the (optionally shuffled, same on every rank) order is
/// padded by wrap-around to a multiple of num_replicas (or, with drop_last, cut
/// to one), and rank r takes every num_replicas-th index starting at r. All
/// ranks get the same count, so they run the same number of steps.
class DistributedSampler : public Sampler {
 public:
  DistributedSampler(int64_t n, int64_t num_replicas, int64_t rank, bool shuffle = true, uint64_t seed = 0,
                     bool drop_last = false);
  int64_t size() const override { return per_rank_; }
  std::vector<int64_t> indices(int64_t epoch) const override;
  using Sampler::indices;

 private:
  int64_t n_, replicas_, rank_;
  bool shuffle_;
  uint64_t seed_;
  bool drop_last_;
  int64_t per_rank_;
};

}  // namespace nabla::data
