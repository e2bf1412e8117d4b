// libpng reports errors by longjmp; as in data/datasets/png_reader.cpp, nothing with a
// destructor is created between setjmp and the libpng calls, and the output lives in a
// caller-owned struct.
#include "tensorboard/png_encoder.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <vector>

#include "nabla/error.h"

namespace nabla::tensorboard::detail {
namespace {

struct Encoded {
  char msg[256] = {};
  std::string bytes;
  std::vector<png_bytep> rows;
};

extern "C" void on_write_error(png_structp png, png_const_charp msg) {
  auto* e = static_cast<Encoded*>(png_get_error_ptr(png));
  std::snprintf(e->msg, sizeof e->msg, "%s", msg);
  png_longjmp(png, 1);
}
extern "C" void on_write_warning(png_structp, png_const_charp) {}
extern "C" void on_write_data(png_structp png, png_bytep data, png_size_t n) {
  static_cast<Encoded*>(png_get_io_ptr(png))->bytes.append(reinterpret_cast<const char*>(data), n);
}
extern "C" void on_flush(png_structp) {}

struct WriteGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~WriteGuard() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

bool encode(const uint8_t* pixels, int height, int width, int channels, Encoded* e) {
  WriteGuard g;
  g.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, e, on_write_error, on_write_warning);
  if (!g.png) return false;
  g.info = png_create_info_struct(g.png);
  if (!g.info) return false;
  png_structp png = g.png;
  png_infop info = g.info;
  if (setjmp(png_jmpbuf(png))) return false;
  static const int kColor[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_write_fn(png, e, on_write_data, on_flush);
  png_set_IHDR(png, info, width, height, 8, kColor[channels], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int r = 0; r < height; ++r)
    e->rows[r] = const_cast<png_bytep>(pixels + static_cast<size_t>(r) * width * channels);
  png_write_image(png, e->rows.data());
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

std::string encode_png(const uint8_t* pixels, int height, int width, int channels) {
  NABLA_CHECK(channels >= 1 && channels <= 4, "encode_png: expected 1 to 4 channels, got ", channels);
  NABLA_CHECK(height > 0 && width > 0, "encode_png: expected a non-empty image, got ", height, " x ", width);
  Encoded e;
  e.rows.resize(height);
  if (!encode(pixels, height, width, channels, &e))
    ::nabla::detail::throw_error("encode_png: libpng: ", e.msg);
  return std::move(e.bytes);
}

}  // namespace nabla::tensorboard::detail
