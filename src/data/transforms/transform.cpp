// Transform base behaviour, Compose, and the locked generator behind the random transforms.
#include <typeinfo>

#include "data/transforms/fused.h"
#include "nabla/creation.h"
#include "nabla/data/batch_generator.h"
#include "nabla/data/transforms.h"
#include "nabla/ops.h"

namespace nabla::data::transforms {

Tensor Transform::batch(const Tensor& x) const {
  NABLA_CHECK(x.dim() >= 1, "Transform.batch: expected a batch [N, ...], got a 0-d tensor");
  std::vector<Tensor> outs;
  outs.reserve(x.size(0));
  for (int64_t i = 0; i < x.size(0); ++i) outs.push_back((*this)(x[i]));
  NABLA_CHECK(!outs.empty(), "Transform.batch: empty batch ", x.shape());
  return stack(outs);
}

Compose::Compose(std::vector<AnyTransform> steps) : steps_(std::move(steps)) {
  for (size_t i = 0; i < steps_.size(); ++i)
    NABLA_CHECK(bool(steps_[i]), "Compose: step ", i, " is an empty transform");
}

namespace {

// The Normalize that directly follows a ToTensor at steps[i] (nullptr if none): the pair is fused
// into one pass over a uint8 input, saving a full-size float tensor and a pass over it per batch.
const Normalize* fusable_normalize(const std::vector<AnyTransform>& steps, size_t i, const Tensor& y) {
  if (i + 1 >= steps.size() || y.dtype() != kUInt8) return nullptr;
  // Exact types only: a subclass may override either step.
  const Transform &a = *steps[i].get(), &b = *steps[i + 1].get();
  if (typeid(a) != typeid(ToTensor) || typeid(b) != typeid(Normalize)) return nullptr;
  return static_cast<const Normalize*>(&b);
}

Tensor run_steps(const std::vector<AnyTransform>& steps, const Tensor& x, bool batched) {
  Tensor y = x;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (const Normalize* norm = fusable_normalize(steps, i, y)) {
      y = detail::to_tensor_normalize(y, batched, norm->mean(), norm->std());
      ++i;
    } else {
      y = batched ? steps[i].batch(y) : steps[i](y);
    }
  }
  return y;
}

}  // namespace

Tensor Compose::operator()(const Tensor& x) const { return run_steps(steps_, x, false); }

Tensor Compose::batch(const Tensor& x) const { return run_steps(steps_, x, true); }

RandomSource::RandomSource(std::optional<uint64_t> seed)
    : gen_(seed ? *seed : default_generator().next_u64()) {}

RandomSource& RandomSource::operator=(const RandomSource& o) {
  if (this != &o) {
    Generator g = o.snapshot();
    std::lock_guard<std::mutex> lock(mutex_);
    gen_ = g;
  }
  return *this;
}

Generator RandomSource::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return gen_;
}

float RandomSource::uniform() const {
  float u = 0;
  with([&](Generator& g) { u = g.next_float(); });
  return u;
}

std::function<Example(Example)> batch_transform(AnyTransform t) {
  NABLA_CHECK(bool(t), "batch_transform: empty transform");
  return [t = std::move(t)](Example b) {
    b.data = t.batch(b.data);
    return b;
  };
}

}  // namespace nabla::data::transforms
