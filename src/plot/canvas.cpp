#include "plot/canvas.h"

#include <cstring>
#include <numbers>

#include "nabla/creation.h"
#include "nabla/error.h"

namespace nabla::plot::detail {

Canvas::Canvas(const char* who, int width, int height) : who_(who), width_(width), height_(height) {
  NABLA_CHECK(width > 0 && height > 0 && width <= 16384 && height <= 16384, who,
              ": image size must be 1..16384 pixels a side, got ", width, " x ", height);
  surface_ = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cr_ = cairo_create(surface_);
  if (cairo_status(cr_) != CAIRO_STATUS_SUCCESS) {
    std::string msg = cairo_status_to_string(cairo_status(cr_));
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
    ::nabla::detail::throw_error(who, ": cairo: ", msg);
  }
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
}

Canvas::~Canvas() {
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
}

void Canvas::text(const std::string& s, double x, double y, double size, Align align, bool bold) {
  cairo_select_font_face(cr_, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  double dx = align == Align::kLeft ? 0 : align == Align::kCentre ? ext.x_advance / 2 : ext.x_advance;
  cairo_move_to(cr_, x - dx, y);
  cairo_show_text(cr_, s.c_str());
}

void Canvas::vertical_text(const std::string& s, double x, double y, double size) {
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  cairo_rotate(cr_, -std::numbers::pi / 2);
  text(s, 0, 0, size, Align::kCentre);
  cairo_restore(cr_);
}

namespace {
extern "C" cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int n) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), n);
  return CAIRO_STATUS_SUCCESS;
}
}  // namespace

std::string Canvas::png_bytes() {
  cairo_surface_flush(surface_);
  std::string out;
  cairo_status_t st = cairo_surface_write_to_png_stream(surface_, append_png, &out);
  NABLA_CHECK(st == CAIRO_STATUS_SUCCESS, who_, ": PNG encoding failed: ", cairo_status_to_string(st));
  return out;
}

// CAIRO_FORMAT_RGB24 stores each pixel as a native-endian uint32 0x00RRGGBB.
Tensor Canvas::to_tensor() {
  cairo_surface_flush(surface_);
  const unsigned char* data = cairo_image_surface_get_data(surface_);
  int stride = cairo_image_surface_get_stride(surface_);
  Tensor out = nabla::empty({height_, width_, 3}, kUInt8);
  uint8_t* p = out.data_ptr<uint8_t>();
  for (int y = 0; y < height_; ++y) {
    for (int x = 0; x < width_; ++x) {
      uint32_t px;
      std::memcpy(&px, data + static_cast<size_t>(y) * stride + 4 * x, 4);
      *p++ = uint8_t(px >> 16), *p++ = uint8_t(px >> 8), *p++ = uint8_t(px);
    }
  }
  return out;
}

}  // namespace nabla::plot::detail
