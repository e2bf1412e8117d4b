// Transform base behaviour, Compose, and the locked generator behind the random transforms.
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

Tensor Compose::operator()(const Tensor& x) const {
  Tensor y = x;
  for (const auto& s : steps_) y = s(y);
  return y;
}

Tensor Compose::batch(const Tensor& x) const {
  Tensor y = x;
  for (const auto& s : steps_) y = s.batch(y);
  return y;
}

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
