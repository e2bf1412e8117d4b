// In-memory PNG encoding through libpng, for Summary.Image.
#pragma once
#include <cstdint>
#include <string>

namespace nabla::tensorboard::detail {

/// Encodes 8-bit HWC pixels (channels 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) as a PNG file.
std::string encode_png(const uint8_t* pixels, int height, int width, int channels);

}  // namespace nabla::tensorboard::detail
