// A grid of sample predictions as a PNG: each image with its predicted and true class, the caption
// green when they agree and red when they do not. Drawn with cairo.
//
//   auto images = test_images.narrow(0, 0, 32);                 // [32, 28, 28] uint8, or [N, C, H, W]
//   auto predicted = model(x).argmax(1);                        // int64 [32]
//   nabla::plot::image_grid(images, predicted, labels.narrow(0, 0, 32), dataset.classes(), "preds.png");
#pragma once
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::plot {

struct ImageGridOptions {
  int columns = 8;  ///< images per row
  int cell = 96;    ///< pixels for the (square) image area of each cell; images are scaled to fit
};

/// Draws `images` (uint8 in [0, 255] or floating in [0, 1]; [N, H, W] gray, [N, C, H, W] with C = 1 or
/// 3) with captions from `predicted` and `true_labels` (integer tensors of N class indices into
/// `class_names`), and writes a PNG to `path` atomically.
void image_grid(const Tensor& images, const Tensor& predicted, const Tensor& true_labels,
                const std::vector<std::string>& class_names, const std::string& path,
                const ImageGridOptions& options = {});
/// The same picture as an RGB uint8 tensor [H, W, 3].
Tensor render_image_grid(const Tensor& images, const Tensor& predicted, const Tensor& true_labels,
                         const std::vector<std::string>& class_names, const ImageGridOptions& options = {});

}  // namespace nabla::plot
