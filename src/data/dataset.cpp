// Dataset::get_batch's default (stack of get(i)), collate, and TensorDataset.
#include "nabla/data/dataset.h"

#include "data/prefetch_rows.h"
#include "nabla/creation.h"
#include "nabla/data/collate.h"
#include "nabla/data/tensor_dataset.h"
#include "nabla/error.h"
#include "nabla/ops.h"

namespace nabla::data {

Example collate(const std::vector<Example>& examples) {
  NABLA_CHECK(!examples.empty(), "collate: no examples to stack");
  std::vector<Tensor> xs, ys;
  xs.reserve(examples.size());
  ys.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    NABLA_CHECK(e.data.defined(), "collate: example ", i, " has no data tensor");
    NABLA_CHECK(
        e.target.defined() == examples[0].target.defined(), "collate: example ", i,
        e.target.defined() ? " has a target but example 0 has none" : " has no target but example 0 has one");
    NABLA_CHECK(e.data.shape() == examples[0].data.shape(), "collate: example ", i, " has data shape ",
                e.data.shape(), " but example 0 has ", examples[0].data.shape());
    xs.push_back(e.data);
    if (e.target.defined()) {
      NABLA_CHECK(e.target.shape() == examples[0].target.shape(), "collate: example ", i,
                  " has target shape ", e.target.shape(), " but example 0 has ", examples[0].target.shape());
      ys.push_back(e.target);
    }
  }
  return {stack(xs, 0), ys.empty() ? Tensor() : stack(ys, 0)};
}

Example Dataset::get_batch(const std::vector<int64_t>& indices) const {
  NABLA_CHECK(!indices.empty(), "Dataset::get_batch: empty index list");
  std::vector<Example> examples;
  examples.reserve(indices.size());
  for (int64_t i : indices) examples.push_back(get(i));
  return collate(examples);
}

TensorDataset::TensorDataset(Tensor x, Tensor y) : x_(std::move(x)), y_(std::move(y)) {
  NABLA_CHECK(x_.defined(), "TensorDataset: the data tensor x is undefined");
  NABLA_CHECK(x_.dim() >= 1,
              "TensorDataset: x must have at least 1 dim (examples along dim "
              "0), got shape ",
              x_.shape());
  if (y_.defined()) {
    NABLA_CHECK(y_.dim() >= 1,
                "TensorDataset: y must have at least 1 dim (examples along dim "
                "0), got shape ",
                y_.shape());
    NABLA_CHECK(x_.size(0) == y_.size(0), "TensorDataset: x and y disagree on the number of examples: x ",
                x_.shape(), " has ", x_.size(0), ", y ", y_.shape(), " has ", y_.size(0));
  }
}

int64_t TensorDataset::size() const { return x_.size(0); }

Example TensorDataset::get(int64_t i) const {
  NABLA_CHECK(i >= 0 && i < size(), "TensorDataset: index ", i, " out of range for ", size(), " examples");
  return {x_.select(0, i), y_.defined() ? y_.select(0, i) : Tensor()};
}

Example TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  NABLA_CHECK(!indices.empty(), "TensorDataset::get_batch: empty index list");
  const int64_t n = size();
  for (int64_t i : indices)
    NABLA_CHECK(i >= 0 && i < n, "TensorDataset: index ", i, " out of range for ", n, " examples");
  Tensor idx = from_buffer(indices.data(), {static_cast<int64_t>(indices.size())}, kInt64);
  return {index_select(x_, 0, idx), y_.defined() ? index_select(y_, 0, idx) : Tensor()};
}

}  // namespace nabla::data

namespace nabla::data {

void TensorDataset::prefetch(std::span<const int64_t> indices) const {
  const int64_t n = size();
  for (const Tensor* t : {&x_, &y_})
    if (t->defined() && n > 0 && t->is_contiguous())
      detail::prefetch_rows(t->raw_data(), static_cast<int64_t>(t->nbytes() / n), n, indices);
}

}  // namespace nabla::data
