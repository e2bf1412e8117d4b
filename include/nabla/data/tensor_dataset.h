// TensorDataset: examples are the rows (dim 0) of in-memory tensors
// (torch.utils.data.TensorDataset).
//   nabla::data::TensorDataset ds(nabla::randn({1000, 784}), nabla::randint(0,
//   10, {1000})); auto [x, y] = ds.get_batch({3, 1, 4});   // x [3, 784], y
//   [3]: one gather per tensor
#pragma once
#include "nabla/data/dataset.h"

namespace nabla::data {

class TensorDataset : public Dataset {
 public:
  /// x and y must have the same size along dim 0; y may be undefined
  /// (unlabelled data).
  explicit TensorDataset(Tensor x, Tensor y = {});
  int64_t size() const override;
  /// Row i of x and y (views, no copy).
  Example get(int64_t i) const override;
  /// Rows `indices` of x and y, gathered with index_select (one copy per
  /// tensor).
  Example get_batch(const std::vector<int64_t>& indices) const override;
  /// Starts loading rows `indices` of x and y into the cache (contiguous tensors only).
  void prefetch(std::span<const int64_t> indices) const override;
  const Tensor& data() const { return x_; }
  const Tensor& targets() const { return y_; }

 private:
  Tensor x_, y_;
};

}  // namespace nabla::data
