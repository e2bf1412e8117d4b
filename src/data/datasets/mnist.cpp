// MNIST / Fashion-MNIST: both splits are four IDX files, read once into memory.
#include "nabla/data/datasets/mnist.h"

#include <cstring>
#include <filesystem>

#include "data/prefetch_rows.h"
#include "nabla/creation.h"
#include "nabla/data/datasets/fashion_mnist.h"
#include "nabla/data/idx.h"

namespace nabla::data::datasets {
namespace {

// `root`/`stem` or `root`/`stem`.gz, whichever exists (plain first).
std::string find_file(const std::string& name, const std::string& root, const std::string& stem,
                      const std::string& hint) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* ext : {"", ".gz"}) {
    fs::path p = fs::path(root) / (stem + ext);
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  ::nabla::detail::throw_error(name, ": cannot find ", stem, " or ", stem, ".gz in '", root, "'", hint);
}

}  // namespace

MNIST::MNIST(const std::string& root, bool train, transforms::AnyTransform transform)
    : MNIST("MNIST", root, train, std::move(transform), "") {}

MNIST::MNIST(const std::string& name, const std::string& root, bool train, transforms::AnyTransform transform,
             const std::string& hint)
    : name_(name), transform_(std::move(transform)) {
  load(name, root, train, hint);
}

void MNIST::load(const std::string& name, const std::string& root, bool train, const std::string& hint) {
  std::string split = train ? "train" : "t10k";
  std::string img_path = find_file(name, root, split + "-images-idx3-ubyte", hint);
  std::string lbl_path = find_file(name, root, split + "-labels-idx1-ubyte", hint);
  Tensor images = read_idx(img_path);
  Tensor labels = read_idx(lbl_path);
  NABLA_CHECK(images.dtype() == kUInt8 && images.dim() == 3, name, ": ", img_path,
              ": expected uint8 images [N, H, W], got ", images.dtype(), " ", images.shape());
  NABLA_CHECK(labels.dtype() == kUInt8 && labels.dim() == 1, name, ": ", lbl_path,
              ": expected uint8 labels [N], got ", labels.dtype(), " ", labels.shape());
  NABLA_CHECK(images.size(0) == labels.size(0), name, ": image/label count mismatch: ", img_path, " has ",
              images.size(0), " images but ", lbl_path, " has ", labels.size(0), " labels");
  images_ = images;
  labels_ = labels.to(kInt64);
}

void MNIST::check_index(int64_t i) const {
  NABLA_CHECK(i >= 0 && i < size(), name_, ": index ", i, " is out of range for a dataset of size ", size());
}

Example MNIST::get(int64_t i) const {
  check_index(i);
  int64_t h = images_.size(1), w = images_.size(2);
  Tensor img = from_buffer(images_.data_ptr<uint8_t>() + i * h * w, {h, w}, kUInt8);
  Tensor label = from_buffer(labels_.data_ptr<int64_t>() + i, {}, kInt64);
  return {transform_ ? transform_(img) : img, label};
}

Example MNIST::get_batch(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices) check_index(i);
  int64_t b = static_cast<int64_t>(indices.size()), h = images_.size(1), w = images_.size(2);
  Tensor imgs = empty({b, h, w}, kUInt8);
  Tensor lbls = empty({b}, kInt64);
  const uint8_t* src = images_.data_ptr<uint8_t>();
  const int64_t* lsrc = labels_.data_ptr<int64_t>();
  uint8_t* dst = imgs.data_ptr<uint8_t>();
  int64_t* ldst = lbls.data_ptr<int64_t>();
  for (int64_t k = 0; k < b; ++k) {
    std::memcpy(dst + k * h * w, src + indices[k] * h * w, h * w);
    ldst[k] = lsrc[indices[k]];
  }
  return {transform_ ? transform_.batch(imgs) : imgs, lbls};
}

void MNIST::prefetch(std::span<const int64_t> indices) const {
  const int64_t n = size(), hw = images_.size(1) * images_.size(2);
  detail::prefetch_rows(images_.data_ptr<uint8_t>(), hw, n, indices);
  detail::prefetch_rows(labels_.data_ptr<int64_t>(), sizeof(int64_t), n, indices);
}

std::vector<std::string> MNIST::classes() const { return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; }

FashionMNIST::FashionMNIST(const std::string& root, bool train, transforms::AnyTransform transform)
    : MNIST("FashionMNIST", root, train, std::move(transform),
            root == kDefaultRoot ? " (install the Debian package dataset-fashion-mnist: "
                                   "apt-get install dataset-fashion-mnist)"
                                 : " (the Debian package dataset-fashion-mnist installs these files in " +
                                       std::string(kDefaultRoot) + ")") {}

std::vector<std::string> FashionMNIST::classes() const {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

}  // namespace nabla::data::datasets
