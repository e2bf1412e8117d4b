// Vision transforms, torchvision-style: composable, seeded, on one image or on a batch.
//
// Layouts follow torchvision: ToTensor takes a uint8 image HW or HWC and gives float32 CHW in
// [0, 1]; every other transform works on [..., C, H, W] (or [..., H, W]). `t(x)` transforms one
// example; `t.batch(x)` transforms a batch [N, ...] with a separate random draw per example
// (ToTensor.batch takes NHW / NHWC and gives NCHW).
//   using namespace nabla::data::transforms;
//   Compose train_tf(ToTensor(), RandomCrop(28, 2, /*seed=*/1), RandomHorizontalFlip(0.5, 2),
//                    Normalize({0.2860}, {0.3530}));
//   auto x = train_tf.batch(images_uint8_nhw);        // float32 [N, 1, 28, 28]
// Random transforms own a nabla::Generator seeded at construction (from the default generator
// when no seed is given, so nabla::manual_seed makes them reproducible); draws are taken under a
// lock, so one transform can be shared by threads. Copying a transform copies its generator state.
// Inside a DataLoader transform (where data::batch_generator() is set) they draw from that
// per-batch generator instead, so augmented batches are the same whatever num_workers is:
//   DataLoader loader(ds, {.batch_size = 64, .num_workers = 2,
//                          .transform = transforms::batch_transform(train_tf)});
#pragma once
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "nabla/data/batch_generator.h"
#include "nabla/data/dataset.h"
#include "nabla/generator.h"
#include "nabla/tensor.h"

namespace nabla::data::transforms {

/// Interface: a function of one image (and, with batch(), of a batch of images).
class Transform {
 public:
  virtual ~Transform() = default;
  /// Transforms one example.
  virtual Tensor operator()(const Tensor& x) const = 0;
  /// Transforms a batch [N, ...] as operator() would each example (default: loop + stack).
  virtual Tensor batch(const Tensor& x) const;
};

/// A shared handle to any transform, so datasets and Compose hold transforms by value:
/// MNIST(root, true, ToTensor()). Empty (the default) means "no transform".
class AnyTransform {
 public:
  AnyTransform() = default;
  AnyTransform(std::nullptr_t) {}
  template <std::derived_from<Transform> T>
  AnyTransform(T t) : p_(std::make_shared<T>(std::move(t))) {}
  AnyTransform(std::shared_ptr<const Transform> p) : p_(std::move(p)) {}
  explicit operator bool() const { return p_ != nullptr; }
  Tensor operator()(const Tensor& x) const { return (*p_)(x); }
  Tensor batch(const Tensor& x) const { return p_->batch(x); }
  const std::shared_ptr<const Transform>& get() const { return p_; }

 private:
  std::shared_ptr<const Transform> p_;
};

/// Applies transforms in order (each one's batch() for batches). ToTensor directly followed by
/// Normalize runs as one pass over a uint8 input (same values, one output tensor instead of two).
class Compose : public Transform {
 public:
  Compose(std::vector<AnyTransform> steps);
  template <std::derived_from<Transform>... Ts>
  requires(sizeof...(Ts) > 0) explicit Compose(Ts... ts)
      : Compose(std::vector<AnyTransform>{AnyTransform(std::move(ts))...}) {}
  Tensor operator()(const Tensor& x) const override;
  Tensor batch(const Tensor& x) const override;
  const std::vector<AnyTransform>& steps() const { return steps_; }

 private:
  std::vector<AnyTransform> steps_;
};

/// uint8 HW / HWC -> float32 [1, H, W] / CHW divided by 255 (torchvision ToTensor on an ndarray).
/// Floating inputs are only permuted (no scaling), like torchvision. batch: NHW / NHWC -> NCHW.
class ToTensor : public Transform {
 public:
  Tensor operator()(const Tensor& x) const override;
  Tensor batch(const Tensor& x) const override;
};

/// (x - mean[c]) / std[c] over the channel dim of a float [..., C, H, W] tensor (one mean/std value
/// applies to every channel). Computed in the input dtype as torchvision does (sub then div).
class Normalize : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Tensor operator()(const Tensor& x) const override;
  Tensor batch(const Tensor& x) const override { return (*this)(x); }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& std() const { return std_; }

 private:
  std::vector<double> mean_, std_;
};

/// Bilinear resize of [..., H, W] to (height, width) with torchvision's antialias=False values
/// (= F.interpolate(mode='bilinear', align_corners=False)); uint8 results are rounded.
class Resize : public Transform {
 public:
  /// Resizes the smaller edge to `size`, keeping the aspect ratio (torchvision Resize(int)).
  explicit Resize(int64_t size);
  Resize(int64_t height, int64_t width);
  Tensor operator()(const Tensor& x) const override;
  Tensor batch(const Tensor& x) const override { return (*this)(x); }

 private:
  int64_t h_, w_;  // h_ = size and w_ = -1 for the smaller-edge form
};

/// Adapts a transform to DataLoaderOptions::transform: applies t.batch() to each batch's data.
std::function<Example(Example)> batch_transform(AnyTransform t);

/// The random source of the random transforms: the DataLoader's per-batch generator when one is
/// set on this thread, else the transform's own generator (under a lock). Copying copies the
/// generator state.
class RandomSource {
 public:
  explicit RandomSource(std::optional<uint64_t> seed);
  RandomSource(const RandomSource& o) : gen_(o.snapshot()) {}
  RandomSource& operator=(const RandomSource& o);
  /// Uniform in [0, 1), 24 bits (as a float, like torch.rand(1) < p comparisons).
  float uniform() const;
  /// Runs f(Generator&) for several draws, taking the lock once.
  template <typename F>
  void with(F&& f) const {
    if (Generator* g = batch_generator()) return f(*g);
    std::lock_guard<std::mutex> lock(mutex_);
    f(gen_);
  }

 private:
  Generator snapshot() const;
  mutable std::mutex mutex_;
  mutable Generator gen_;
};

/// Flips the last dim with probability p (one draw per example in batch()).
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5, std::optional<uint64_t> seed = std::nullopt);
  Tensor operator()(const Tensor& x) const override;
  Tensor batch(const Tensor& x) const override;

 private:
  double p_;
  RandomSource rng_;
};

/// An output size (height, width): RandomCrop({24, 32}, 4).
struct Size2 {
  int64_t height = 0, width = 0;
};

/// Zero-pads the last two dims by `padding` on every side, then crops a random (height, width)
/// window (torchvision RandomCrop with padding_mode='constant', fill=0).
class RandomCrop : public Transform {
 public:
  /// A size x size window.
  explicit RandomCrop(int64_t size, int64_t padding = 0, std::optional<uint64_t> seed = std::nullopt);
  explicit RandomCrop(Size2 size, int64_t padding = 0, std::optional<uint64_t> seed = std::nullopt);
  Tensor operator()(const Tensor& x) const override;
  Tensor batch(const Tensor& x) const override;

 private:
  int64_t h_, w_, pad_;
  RandomSource rng_;
};

enum class Interpolation { kNearest, kBilinear };

/// Rotates by an angle drawn uniformly from [-degrees, degrees] (counter-clockwise, about the
/// centre, same size; outside pixels get `fill`). Same sampling as torchvision's tensor rotate:
/// nearest (its default) or bilinear; uint8 results are rounded.
class RandomRotation : public Transform {
 public:
  explicit RandomRotation(double degrees, Interpolation interpolation = Interpolation::kNearest,
                          double fill = 0.0, std::optional<uint64_t> seed = std::nullopt);
  Tensor operator()(const Tensor& x) const override;
  Tensor batch(const Tensor& x) const override;

 private:
  double degrees_, fill_;
  Interpolation interp_;
  RandomSource rng_;
};

// ---- functional forms (deterministic; the classes above are built on them) -----------------

/// ToTensor on one image.
Tensor to_tensor(const Tensor& image);
/// Normalize on [..., C, H, W].
Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& std);
/// Reverses the last dim.
Tensor hflip(const Tensor& x);
/// The window [top, top + height) x [left, left + width) of the last two dims; parts outside the
/// image are zero (torchvision F.crop).
Tensor crop(const Tensor& x, int64_t top, int64_t left, int64_t height, int64_t width);
/// Bilinear resize of the last two dims (torchvision F.resize, antialias=False).
Tensor resize(const Tensor& x, int64_t height, int64_t width);
/// Counter-clockwise rotation by `angle` degrees about the centre (torchvision F.rotate with
/// fill=[fill] * C, expand=False).
Tensor rotate(const Tensor& x, double angle, Interpolation interpolation = Interpolation::kNearest,
              double fill = 0.0);

}  // namespace nabla::data::transforms
