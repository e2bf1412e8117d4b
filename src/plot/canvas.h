// A cairo RGB image surface with the few helpers the plots share: text, colours, and the two ways
// out (PNG bytes, uint8 tensor). Internal to src/plot.
#pragma once
#include <cairo.h>

#include <string>

#include "nabla/tensor.h"

namespace nabla::plot::detail {

struct Rgb {
  double r, g, b;
};
// matplotlib's tab10 blue and orange, so the curves look familiar.
constexpr Rgb kTrainColour{31 / 255.0, 119 / 255.0, 180 / 255.0};
constexpr Rgb kValColour{255 / 255.0, 127 / 255.0, 14 / 255.0};
constexpr Rgb kGood{0 / 255.0, 140 / 255.0, 0 / 255.0};
constexpr Rgb kBad{210 / 255.0, 0 / 255.0, 0 / 255.0};

enum class Align { kLeft, kCentre, kRight };

class Canvas {
 public:
  Canvas(const char* who, int width, int height);  // white background
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() { return cr_; }
  cairo_surface_t* surface() { return surface_; }
  int width() const { return width_; }
  int height() const { return height_; }

  void colour(Rgb c) { cairo_set_source_rgb(cr_, c.r, c.g, c.b); }
  /// Draws `text` with its baseline at y, aligned on x.
  void text(const std::string& text, double x, double y, double size, Align align = Align::kLeft,
            bool bold = false);
  /// Draws `text` rotated 90 degrees anticlockwise, centred on (x, y) (for y-axis labels).
  void vertical_text(const std::string& text, double x, double y, double size);

  std::string png_bytes();
  Tensor to_tensor();

 private:
  const char* who_;
  int width_, height_;
  cairo_surface_t* surface_;
  cairo_t* cr_;
};

}  // namespace nabla::plot::detail
