// Dataset: anything with a size and random access to examples (torch.utils.data.Dataset).
//   struct Squares : nabla::data::Dataset {
//     int64_t size() const override { return 100; }
//     nabla::data::Example get(int64_t i) const override {
//       return {nabla::full({1}, double(i)), nabla::full({1}, double(i * i))};
//     }
//   };
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::data {

/// One example (or, from get_batch / a DataLoader, one batch): input and target.
struct Example {
  Tensor data;
  Tensor target;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Number of examples.
  virtual int64_t size() const = 0;
  /// Example i (0 <= i < size()); throws nabla::Error when out of range. Must be safe to call
  /// from several threads at once (DataLoader workers do).
  virtual Example get(int64_t i) const = 0;
  /// The examples at `indices`, stacked along a new leading dim. Datasets held in memory
  /// override this with one gather instead of per-example tensors.
  virtual Example get_batch(const std::vector<int64_t>& indices) const;
  /// Hint: get_batch(indices) is coming soon. Datasets held in memory start loading those rows
  /// into the cache (the DataLoader calls this for the next batch before handing out the current
  /// one, so the loads overlap the training step). Never throws; bad indices are ignored.
  virtual void prefetch(std::span<const int64_t> indices) const {}
};

}  // namespace nabla::data
