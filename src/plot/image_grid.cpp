// Grid of predictions: each cell is the image scaled to fit a cell x cell square (nearest
// neighbour, so small images such as 28x28 stay crisp), framed green or red, with "pred" and
// "true" captions below.
#include "nabla/plot/image_grid.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "plot/canvas.h"

namespace nabla::plot {
namespace {

using detail::Align;
using detail::Canvas;

constexpr int kPad = 10, kCaption = 38;

struct Batch {
  int64_t n = 0, h = 0, w = 0, c = 0;
  std::vector<uint8_t> pixels;  // NHWC
  std::vector<int64_t> predicted, truth;
};

std::vector<int64_t> labels(const char* what, const Tensor& t, int64_t n, size_t classes) {
  NABLA_CHECK(t.numel() == n, "image_grid: ", what, " must hold one class per image (", n, "), got shape ",
              t.shape());
  Tensor c = t.detach().cpu().reshape({n}).to(kInt64).contiguous();
  std::vector<int64_t> out(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + n);
  for (int64_t v : out)
    NABLA_CHECK(v >= 0 && size_t(v) < classes, "image_grid: ", what, " has class ", v, " but there are ",
                classes, " class names");
  return out;
}

Batch prepare(const Tensor& images, const Tensor& predicted, const Tensor& truth, size_t classes) {
  Tensor t = images.detach().cpu();
  NABLA_CHECK(t.dim() == 3 || t.dim() == 4,
              "image_grid: images must be [N, H, W] or [N, C, H, W], got shape ", t.shape());
  if (t.dim() == 3) t = t.unsqueeze(1);
  NABLA_CHECK(t.size(1) == 1 || t.size(1) == 3, "image_grid: images must have 1 or 3 channels, got shape ",
              t.shape());
  NABLA_CHECK(t.size(0) > 0 && t.size(2) > 0 && t.size(3) > 0, "image_grid: no images (shape ", t.shape(),
              ")");
  Batch b;
  b.n = t.size(0), b.c = t.size(1), b.h = t.size(2), b.w = t.size(3);
  t = t.permute({0, 2, 3, 1});
  b.pixels.resize(size_t(t.numel()));
  if (t.dtype() == kUInt8) {
    Tensor c = t.contiguous();
    std::memcpy(b.pixels.data(), c.data_ptr<uint8_t>(), b.pixels.size());
  } else {
    Tensor c = t.to(kFloat32).contiguous();
    const float* p = c.data_ptr<float>();
    for (size_t i = 0; i < b.pixels.size(); ++i)
      b.pixels[i] = uint8_t(std::clamp(std::isnan(p[i]) ? 0.0f : p[i], 0.0f, 1.0f) * 255.0f + 0.5f);
  }
  b.predicted = labels("predicted", predicted, b.n, classes);
  b.truth = labels("true_labels", truth, b.n, classes);
  return b;
}

void draw_image(Canvas& canvas, const Batch& b, int64_t i, double x, double y, int cell) {
  // Wrap image i as a cairo surface (RGB24: one uint32 0x00RRGGBB per pixel).
  int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, int(b.w));
  std::vector<unsigned char> data(size_t(stride) * b.h);
  const uint8_t* src = b.pixels.data() + size_t(i) * b.h * b.w * b.c;
  for (int64_t r = 0; r < b.h; ++r)
    for (int64_t col = 0; col < b.w; ++col) {
      const uint8_t* p = src + (r * b.w + col) * b.c;
      uint32_t px = b.c == 1 ? (uint32_t(p[0]) << 16 | uint32_t(p[0]) << 8 | p[0])
                             : (uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]);
      std::memcpy(data.data() + r * stride + 4 * col, &px, 4);
    }
  cairo_surface_t* img =
      cairo_image_surface_create_for_data(data.data(), CAIRO_FORMAT_RGB24, int(b.w), int(b.h), stride);
  double scale = double(cell) / std::max(b.w, b.h);
  double ox = x + (cell - b.w * scale) / 2, oy = y + (cell - b.h * scale) / 2;
  cairo_t* cr = canvas.cr();
  cairo_save(cr);
  cairo_translate(cr, ox, oy);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, double(b.w), double(b.h));
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

template <typename Out>
auto paint(const Tensor& images, const Tensor& predicted, const Tensor& truth,
           const std::vector<std::string>& names, const ImageGridOptions& o, Out out) {
  NABLA_CHECK(o.columns > 0 && o.cell >= 16, "image_grid: need columns >= 1 and cell >= 16, got ", o.columns,
              " and ", o.cell);
  Batch b = prepare(images, predicted, truth, names.size());
  int cols = int(std::min<int64_t>(o.columns, b.n)), rows = int((b.n + cols - 1) / cols);
  int cell_w = std::max(o.cell, 110), cell_h = o.cell + kCaption;
  Canvas c("image_grid", kPad + cols * (cell_w + kPad), kPad + rows * (cell_h + kPad));
  cairo_t* cr = c.cr();
  for (int64_t i = 0; i < b.n; ++i) {
    double x = kPad + (i % cols) * (cell_w + kPad), y = kPad + (i / cols) * (cell_h + kPad);
    double ix = x + (cell_w - o.cell) / 2.0;
    bool ok = b.predicted[i] == b.truth[i];
    draw_image(c, b, i, ix, y, o.cell);
    c.colour(ok ? detail::kGood : detail::kBad);
    cairo_set_line_width(cr, 3);
    cairo_rectangle(cr, ix - 1.5, y - 1.5, o.cell + 3, o.cell + 3);
    cairo_stroke(cr);
    c.text("pred: " + names[b.predicted[i]], x + cell_w / 2.0, y + o.cell + 16, 12, Align::kCentre, !ok);
    c.colour({0.2, 0.2, 0.2});
    c.text("true: " + names[b.truth[i]], x + cell_w / 2.0, y + o.cell + 32, 12, Align::kCentre);
  }
  return out(c);
}

}  // namespace

Tensor render_image_grid(const Tensor& images, const Tensor& predicted, const Tensor& true_labels,
                         const std::vector<std::string>& class_names, const ImageGridOptions& options) {
  return paint(images, predicted, true_labels, class_names, options, [](Canvas& c) { return c.to_tensor(); });
}

void image_grid(const Tensor& images, const Tensor& predicted, const Tensor& true_labels,
                const std::vector<std::string>& class_names, const std::string& path,
                const ImageGridOptions& options) {
  io::write_file_atomic(path, paint(images, predicted, true_labels, class_names, options,
                                    [](Canvas& c) { return c.png_bytes(); }));
}

}  // namespace nabla::plot
