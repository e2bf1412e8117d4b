// PNG decoding through libpng. libpng reports errors by longjmp out of its calls, so the decoding
// function keeps C++ out of the way: nothing with a destructor is created after setjmp, the
// output buffers live in a caller-owned struct, and the libpng structs are freed by a guard that
// is constructed before setjmp and never modified after it.
#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "nabla/creation.h"
#include "nabla/data/datasets/image_folder.h"

namespace nabla::data::datasets {
namespace {

struct Decoded {
  char msg[256] = {};
  std::vector<uint8_t> pixels;
  std::vector<png_bytep> rows;
  uint32_t width = 0, height = 0;
  int channels = 0;
};

extern "C" void on_png_error(png_structp png, png_const_charp msg) {
  auto* d = static_cast<Decoded*>(png_get_error_ptr(png));
  std::snprintf(d->msg, sizeof d->msg, "%s", msg);
  png_longjmp(png, 1);
}
extern "C" void on_png_warning(png_structp, png_const_charp) {}  // quiet by default

struct ReadGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadGuard() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

// Decodes to 8-bit gray (1 channel) or RGB (3 channels). Returns false with d->msg set on error.
bool decode(FILE* f, Decoded* d) {
  ReadGuard g;
  g.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, on_png_error, on_png_warning);
  if (!g.png) {
    std::snprintf(d->msg, sizeof d->msg, "libpng initialisation failed");
    return false;
  }
  g.info = png_create_info_struct(g.png);
  if (!g.info) {
    std::snprintf(d->msg, sizeof d->msg, "libpng initialisation failed");
    return false;
  }
  png_structp png = g.png;
  png_infop info = g.info;
  if (setjmp(png_jmpbuf(png))) return false;  // a libpng error: d->msg holds its message

  png_init_io(png, f);
  png_set_sig_bytes(png, 8);
  png_read_info(png, info);
  int color = png_get_color_type(png, info);
  int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_scale_16(png);  // rounds v * 255 / 65535
  png_set_strip_alpha(png);                // also drops alpha that palette tRNS expansion adds
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  d->width = png_get_image_width(png, info);
  d->height = png_get_image_height(png, info);
  d->channels = png_get_channels(png, info);
  size_t rowbytes = png_get_rowbytes(png, info);
  if (d->channels != 1 && d->channels != 3) {
    std::snprintf(d->msg, sizeof d->msg, "unexpected channel count %d after conversion", d->channels);
    return false;
  }
  if (uint64_t(rowbytes) * d->height > (uint64_t(1) << 31)) {
    std::snprintf(d->msg, sizeof d->msg, "image %u x %u is too large (over 2 GiB decoded)", d->width,
                  d->height);
    return false;
  }
  d->pixels.resize(rowbytes * d->height);
  d->rows.resize(d->height);
  for (uint32_t r = 0; r < d->height; ++r) d->rows[r] = d->pixels.data() + r * rowbytes;
  png_read_image(png, d->rows.data());
  png_read_end(png, nullptr);
  return true;
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

}  // namespace

Tensor read_png(const std::string& path, ImageMode mode) {
  std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) ::nabla::detail::throw_error("read_png: ", path, ": cannot open: ", std::strerror(errno));
  unsigned char sig[8] = {};
  size_t got = std::fread(sig, 1, 8, f.get());
  if (got != 8 || png_sig_cmp(sig, 0, 8) != 0)
    ::nabla::detail::throw_error("read_png: ", path, ": not a PNG file (bad signature)");
  Decoded d;
  if (!decode(f.get(), &d)) ::nabla::detail::throw_error("read_png: ", path, ": corrupt PNG (", d.msg, ")");
  int64_t h = d.height, w = d.width, c = d.channels;
  if (mode == ImageMode::kRGB && c == 1) {
    Tensor out = empty({h, w, 3}, kUInt8);
    uint8_t* o = out.data_ptr<uint8_t>();
    for (int64_t i = 0; i < h * w; ++i) o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = d.pixels[i];
    return out;
  }
  if (mode == ImageMode::kGray && c == 3) {
    Tensor out = empty({h, w, 1}, kUInt8);
    uint8_t* o = out.data_ptr<uint8_t>();
    const uint8_t* s = d.pixels.data();
    for (int64_t i = 0; i < h * w; ++i)  // PIL's ITU-R 601-2 luma in 16-bit fixed point
      o[i] = static_cast<uint8_t>((s[3 * i] * 19595 + s[3 * i + 1] * 38470 + s[3 * i + 2] * 7471 + 0x8000) >>
                                  16);
    return out;
  }
  return from_buffer(d.pixels.data(), {h, w, c}, kUInt8);
}

}  // namespace nabla::data::datasets
