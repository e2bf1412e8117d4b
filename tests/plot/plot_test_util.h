// Test helpers for the plots: write to a temporary PNG, decode it with libpng (read_png), and
// count pixels near a colour inside a rectangle.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "nabla/data/datasets/image_folder.h"
#include "nabla/tensor.h"

namespace nabla::plot::testing {

inline std::string temp_png(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("nabla_plot_" + name + "_" + std::to_string(getpid()) + ".png"))
      .string();
}

/// Decoded RGB pixels [H, W, 3] with accessors.
struct Decoded {
  Tensor t;
  int h = 0, w = 0;
  explicit Decoded(const std::string& path)
      : t(nabla::data::datasets::read_png(path, nabla::data::datasets::ImageMode::kRGB).contiguous()) {
    h = int(t.size(0)), w = int(t.size(1));
  }
  const uint8_t* at(int y, int x) const { return t.data_ptr<uint8_t>() + (size_t(y) * w + x) * 3; }
  /// Pixels in [x0, x1) x [y0, y1) within `tol` of (r, g, b) in every channel.
  int count(int r, int g, int b, int tol, int x0, int y0, int x1, int y1) const {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const uint8_t* p = at(y, x);
        n += std::abs(p[0] - r) <= tol && std::abs(p[1] - g) <= tol && std::abs(p[2] - b) <= tol;
      }
    return n;
  }
  /// Mean y of the pixels near a colour in a rectangle (-1 if none).
  double mean_y(int r, int g, int b, int tol, int x0, int y0, int x1, int y1) const {
    double sum = 0;
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const uint8_t* p = at(y, x);
        if (std::abs(p[0] - r) <= tol && std::abs(p[1] - g) <= tol && std::abs(p[2] - b) <= tol)
          sum += y, ++n;
      }
    return n ? sum / n : -1;
  }
};

}  // namespace nabla::plot::testing
