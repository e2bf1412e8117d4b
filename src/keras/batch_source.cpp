// Batch sources for Model::fit / evaluate / predict (see batch_source.h).
#include "keras/batch_source.h"

#include <algorithm>

#include "nabla/creation.h"
#include "nabla/data/samplers.h"
#include "nabla/data/tensor_dataset.h"
#include "nabla/ops.h"

namespace nabla::keras::detail {

TensorSource::TensorSource(std::vector<Tensor> x, std::vector<Tensor> y, Tensor sw, int64_t batch_size,
                           bool shuffle, uint64_t seed, int num_workers)
    : x_(std::move(x)),
      y_(std::move(y)),
      sw_(std::move(sw)),
      batch_(batch_size),
      shuffle_(shuffle),
      seed_(seed) {
  NABLA_CHECK(batch_size > 0, "fit: batch_size must be positive, got ", batch_size);
  NABLA_CHECK(!x_.empty() && x_[0].defined() && x_[0].dim() >= 1,
              "fit: x must be a tensor with a batch dimension");
  n_ = x_[0].size(0);
  for (const auto& t : x_)
    NABLA_CHECK(t.defined() && t.dim() >= 1 && t.size(0) == n_,
                "fit: every input needs the same number of samples (", n_, "), received ",
                t.defined() ? t.shape() : Shape{});
  for (const auto& t : y_)
    NABLA_CHECK(t.defined() && t.dim() >= 1 && t.size(0) == n_, "fit: x has ", n_,
                " samples but a target has shape ", t.defined() ? t.shape() : Shape{});
  NABLA_CHECK(!sw_.defined() || sw_.numel() == n_, "fit: x has ", n_, " samples but sample_weight has ",
              sw_.numel());
  if (sw_.defined()) sw_ = sw_.reshape({-1});
  if (x_.size() == 1 && y_.size() == 1 && !sw_.defined() && shuffle_) {
    loader_ = std::make_unique<data::DataLoader>(
        data::TensorDataset(x_[0], y_[0]),
        data::DataLoaderOptions{
            .batch_size = batch_, .shuffle = true, .num_workers = num_workers, .seed = seed_});
  }
}

void TensorSource::run(int64_t epoch, const std::function<bool(Batch&)>& fn) {
  Batch b;
  if (loader_) {
    loader_->set_epoch(epoch);  // epoch e of seed s: the order a hand-written loop sees
    for (auto& [data, target] : *loader_) {
      b.x = {data};
      b.y = {target};
      if (!fn(b)) break;
    }
    return;
  }
  std::vector<int64_t> order;
  if (shuffle_) order = data::RandomSampler(n_, seed_).indices(epoch);
  for (int64_t s = 0; s < n_; s += batch_) {
    const int64_t len = std::min(batch_, n_ - s);
    b.x.clear(), b.y.clear();
    if (!shuffle_) {  // contiguous slices: views, no copies
      for (const auto& t : x_) b.x.push_back(t.narrow(0, s, len));
      for (const auto& t : y_) b.y.push_back(t.narrow(0, s, len));
      b.sw = sw_.defined() ? sw_.narrow(0, s, len) : Tensor();
    } else {
      Tensor idx = tensor(std::vector<int64_t>(order.begin() + s, order.begin() + s + len));
      for (const auto& t : x_) b.x.push_back(index_select(t, 0, idx));
      for (const auto& t : y_) b.y.push_back(index_select(t, 0, idx));
      b.sw = sw_.defined() ? index_select(sw_, 0, idx) : Tensor();
    }
    if (!fn(b)) return;
  }
}

void LoaderSource::run(int64_t, const std::function<bool(Batch&)>& fn) {
  Batch b;
  for (auto& [data, target] : loader_) {
    b.x = {data};
    b.y = {target};
    if (!fn(b)) break;
  }
}

void PipelineSource::run(int64_t, const std::function<bool(Batch&)>& fn) {
  Batch b;
  int64_t i = 0;
  for (auto& [data, target] : pipeline_) {
    b.x = {data};
    b.y = {target};
    if (!fn(b) || (steps_ > 0 && ++i >= steps_)) break;
  }
}

}  // namespace nabla::keras::detail
