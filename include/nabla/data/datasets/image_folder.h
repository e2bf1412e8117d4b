// A folder of PNG images, one sub-folder per class (torchvision.datasets.ImageFolder):
//   root/cat/001.png, root/cat/kitten/002.png, root/dog/a.png  ->  classes {"cat", "dog"}
// Class index = position of the sub-folder name in sorted (byte) order; images are found
// recursively below each class folder, in sorted path order, with a case-insensitive .png
// extension. Images are decoded through libpng on each get() (nothing is cached) as uint8 HWC.
//   nabla::data::datasets::ImageFolder ds("/data/pets", {.mode = ImageMode::kRGB,
//                                                        .transform = transforms::ToTensor()});
//   auto [img, label] = ds.get(0);     // float32 [3, H, W], int64 []
// Pixel conversions: palette -> RGB; gray with fewer than 8 bits -> 8-bit gray; 16-bit channels
// -> 8-bit by rounding (v * 255 / 65535); alpha and tRNS transparency are dropped (not blended,
// as PIL's convert("RGB") does). kRGB replicates gray into three channels; kGray converts colour
// with PIL's weights L = (19595 R + 38470 G + 7471 B + 32768) >> 16.
#pragma once
#include <string>
#include <vector>

#include "nabla/data/dataset.h"
#include "nabla/data/transforms.h"

namespace nabla::data::datasets {

enum class ImageMode {
  kAuto,  ///< gray images [H, W, 1], colour images [H, W, 3]
  kRGB,   ///< always [H, W, 3] (torchvision's default loader)
  kGray,  ///< always [H, W, 1]
};

struct ImageFolderOptions {
  ImageMode mode = ImageMode::kAuto;
  transforms::AnyTransform transform = {};
};

class ImageFolder : public Dataset {
 public:
  /// Scans `root`; throws nabla::Error when it is missing, has no class folders, or a class
  /// folder holds no PNG file.
  explicit ImageFolder(const std::string& root, ImageFolderOptions options = {});
  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  /// Decodes image i (a corrupt file throws nabla::Error naming it) and applies the transform.
  Example get(int64_t i) const override;

  /// Sorted class (sub-folder) names; the label of an image is its class's index here.
  const std::vector<std::string>& classes() const { return classes_; }
  struct Sample {
    std::string path;
    int64_t label;
  };
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::string root_;
  ImageFolderOptions opt_;
  std::vector<std::string> classes_;
  std::vector<Sample> samples_;
};

/// Decodes a PNG file to uint8 [H, W, C] (C = 1 or 3 per `mode`, conversions as above); a
/// missing, truncated or corrupt file throws nabla::Error naming the file and libpng's message.
Tensor read_png(const std::string& path, ImageMode mode = ImageMode::kAuto);

}  // namespace nabla::data::datasets
