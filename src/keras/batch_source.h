// Internal: where fit/evaluate/predict get their batches. In-memory tensors go through a
// data::DataLoader over a TensorDataset when there is one input, one target and no sample
// weights (the same object a hand-written loop uses), else through a data::RandomSampler and
// index_select; a user's DataLoader or Pipeline is read as is.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "nabla/data/data_loader.h"
#include "nabla/data/pipeline.h"
#include "nabla/tensor.h"

namespace nabla::keras::detail {

struct Batch {
  std::vector<Tensor> x;
  std::vector<Tensor> y;  // one target per model output (empty for predict)
  Tensor sw;              // per-sample weights [N] or undefined
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  /// Steps per epoch, -1 when unknown (a Pipeline).
  virtual int64_t steps() const = 0;
  /// Calls fn for each batch of epoch `epoch` until it returns false.
  virtual void run(int64_t epoch, const std::function<bool(Batch&)>& fn) = 0;
};

class TensorSource : public BatchSource {
 public:
  TensorSource(std::vector<Tensor> x, std::vector<Tensor> y, Tensor sw, int64_t batch_size, bool shuffle,
               uint64_t seed, int num_workers);
  int64_t steps() const override { return (n_ + batch_ - 1) / batch_; }
  void run(int64_t epoch, const std::function<bool(Batch&)>& fn) override;

 private:
  std::vector<Tensor> x_, y_;
  Tensor sw_;
  int64_t batch_, n_ = 0;
  bool shuffle_;
  uint64_t seed_;
  std::unique_ptr<data::DataLoader> loader_;
};

class LoaderSource : public BatchSource {
 public:
  explicit LoaderSource(data::DataLoader& loader) : loader_(loader) {}
  int64_t steps() const override { return loader_.size(); }
  void run(int64_t epoch, const std::function<bool(Batch&)>& fn) override;

 private:
  data::DataLoader& loader_;
};

class PipelineSource : public BatchSource {
 public:
  PipelineSource(const data::Pipeline& p, int64_t steps) : pipeline_(p), steps_(steps) {}
  int64_t steps() const override { return steps_ > 0 ? steps_ : -1; }
  void run(int64_t epoch, const std::function<bool(Batch&)>& fn) override;

 private:
  data::Pipeline pipeline_;
  int64_t steps_;
};

}  // namespace nabla::keras::detail
