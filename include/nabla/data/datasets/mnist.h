// MNIST-format datasets held in memory: images uint8 [N, H, W] and labels int64 [N], read from
// the four IDX files (plain or .gz) of a root folder, like torchvision.datasets.MNIST.
//   nabla::data::datasets::MNIST mnist("/data/mnist", /*train=*/true,
//                                      nabla::data::transforms::ToTensor());
//   auto [x, y] = mnist.get(0);          // float32 [1, 28, 28], int64 []
//   auto batch = mnist.get_batch({0, 1, 2});   // one gather, then the transform's batch form
// Without a transform an example is the raw uint8 image [H, W] (torchvision gives a PIL image).
#pragma once
#include <string>
#include <vector>

#include "nabla/data/dataset.h"
#include "nabla/data/transforms.h"

namespace nabla::data::datasets {

class MNIST : public Dataset {
 public:
  /// Loads `root`/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. Throws nabla::Error when a
  /// file is missing or malformed, or when the image and label counts differ.
  MNIST(const std::string& root, bool train = true, transforms::AnyTransform transform = {});

  int64_t size() const override { return labels_.size(0); }
  /// Image i (a copy, transformed if a transform was given) and its label (int64 scalar).
  Example get(int64_t i) const override;
  /// Gathers the images [B, H, W] in one pass, then applies transform.batch().
  Example get_batch(const std::vector<int64_t>& indices) const override;
  /// Starts loading the images and labels at `indices` into the cache.
  void prefetch(std::span<const int64_t> indices) const override;

  /// All images, uint8 [N, H, W] (shared, not copied).
  const Tensor& images() const { return images_; }
  /// All labels, int64 [N].
  const Tensor& labels() const { return labels_; }
  const transforms::AnyTransform& transform() const { return transform_; }
  /// Class names: "0".."9" for MNIST, the clothing names for FashionMNIST.
  virtual std::vector<std::string> classes() const;

 protected:
  /// For subclasses: `name` appears in errors, `hint` is appended when files are missing.
  MNIST(const std::string& name, const std::string& root, bool train, transforms::AnyTransform transform,
        const std::string& hint);

 private:
  void load(const std::string& name, const std::string& root, bool train, const std::string& hint);
  void check_index(int64_t i) const;

  std::string name_;
  Tensor images_, labels_;
  transforms::AnyTransform transform_;
};

}  // namespace nabla::data::datasets
