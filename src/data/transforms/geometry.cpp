// Flips and crops: pure data movement on the last two dims, any dtype (copied by element size).
#include <cstring>

#include "nabla/creation.h"
#include "nabla/data/transforms.h"

namespace nabla::data::transforms {
namespace {

struct Planes {
  Tensor src;  // contiguous input
  int64_t h, w, count;
};

Planes planes_of(const Tensor& x, const char* who) {
  NABLA_CHECK(x.dim() >= 2, who, ": expected an image [..., H, W], got shape ", x.shape());
  Planes p{x.contiguous(), x.size(-2), x.size(-1), 0};
  p.count = (p.h * p.w) != 0 ? x.numel() / (p.h * p.w) : 0;
  return p;
}

template <typename E>
void flip_typed(const uint8_t* s, uint8_t* o, int64_t h, int64_t w) {
  auto* se = reinterpret_cast<const E*>(s);
  auto* oe = reinterpret_cast<E*>(o);
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) oe[r * w + c] = se[r * w + (w - 1 - c)];
}

// Typed copies for the common element sizes (tensor data is aligned to its element size).
void flip_plane(const uint8_t* s, uint8_t* o, int64_t h, int64_t w, size_t es) {
  switch (es) {
    case 1:
      return flip_typed<uint8_t>(s, o, h, w);
    case 2:
      return flip_typed<uint16_t>(s, o, h, w);
    case 4:
      return flip_typed<uint32_t>(s, o, h, w);
    case 8:
      return flip_typed<uint64_t>(s, o, h, w);
  }
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c) std::memcpy(o + (r * w + c) * es, s + (r * w + (w - 1 - c)) * es, es);
}

// Window [top, top + th) x [left, left + tw) of an h x w plane; outside is zero.
void crop_plane(const uint8_t* s, uint8_t* o, int64_t h, int64_t w, int64_t top, int64_t left, int64_t th,
                int64_t tw, size_t es) {
  int64_t c0 = std::max<int64_t>(0, -left), c1 = std::min<int64_t>(tw, w - left);
  for (int64_t r = 0; r < th; ++r) {
    uint8_t* orow = o + r * tw * es;
    int64_t sr = top + r;
    if (sr < 0 || sr >= h || c1 <= c0) {
      std::memset(orow, 0, tw * es);
      continue;
    }
    if (c0 > 0) std::memset(orow, 0, c0 * es);
    std::memcpy(orow + c0 * es, s + (sr * w + left + c0) * es, (c1 - c0) * es);
    if (c1 < tw) std::memset(orow + c1 * es, 0, (tw - c1) * es);
  }
}

Shape with_hw(const Shape& s, int64_t h, int64_t w) {
  Shape r = s;
  r[r.size() - 2] = h;
  r[r.size() - 1] = w;
  return r;
}

// Per-example draws for a batch: planes of example n are [n * per, (n + 1) * per).
int64_t planes_per_example(const Tensor& x, const Planes& p, const char* who) {
  NABLA_CHECK(x.dim() >= 3, who, ".batch: expected a batch [N, ..., H, W], got shape ", x.shape());
  return x.size(0) ? p.count / x.size(0) : 0;
}

}  // namespace

Tensor hflip(const Tensor& x) {
  Planes p = planes_of(x, "hflip");
  Tensor out = empty(x.shape(), x.dtype());
  size_t es = x.element_size(), ps = p.h * p.w * es;
  auto* s = static_cast<const uint8_t*>(p.src.raw_data());
  auto* o = static_cast<uint8_t*>(out.raw_data());
  for (int64_t i = 0; i < p.count; ++i) flip_plane(s + i * ps, o + i * ps, p.h, p.w, es);
  return out;
}

Tensor crop(const Tensor& x, int64_t top, int64_t left, int64_t height, int64_t width) {
  Planes p = planes_of(x, "crop");
  NABLA_CHECK(height >= 0 && width >= 0, "crop: negative output size ", height, " x ", width);
  Tensor out = empty(with_hw(x.shape(), height, width), x.dtype());
  size_t es = x.element_size(), ips = p.h * p.w * es, ops = height * width * es;
  auto* s = static_cast<const uint8_t*>(p.src.raw_data());
  auto* o = static_cast<uint8_t*>(out.raw_data());
  for (int64_t i = 0; i < p.count; ++i)
    crop_plane(s + i * ips, o + i * ops, p.h, p.w, top, left, height, width, es);
  return out;
}

RandomHorizontalFlip::RandomHorizontalFlip(double p, std::optional<uint64_t> seed) : p_(p), rng_(seed) {
  NABLA_CHECK(p >= 0.0 && p <= 1.0, "RandomHorizontalFlip: p must be in [0, 1], got ", p);
}

Tensor RandomHorizontalFlip::operator()(const Tensor& x) const { return rng_.uniform() < p_ ? hflip(x) : x; }

Tensor RandomHorizontalFlip::batch(const Tensor& x) const {
  Planes p = planes_of(x, "RandomHorizontalFlip");
  int64_t per = planes_per_example(x, p, "RandomHorizontalFlip");
  int64_t n = x.size(0);
  std::vector<uint8_t> flip(n);
  rng_.with([&](Generator& g) {
    for (auto& f : flip) f = g.next_float() < p_;
  });
  Tensor out = empty(x.shape(), x.dtype());
  size_t es = x.element_size(), ps = p.h * p.w * es;
  auto* s = static_cast<const uint8_t*>(p.src.raw_data());
  auto* o = static_cast<uint8_t*>(out.raw_data());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = b * per; i < (b + 1) * per; ++i) {
      if (flip[b])
        flip_plane(s + i * ps, o + i * ps, p.h, p.w, es);
      else
        std::memcpy(o + i * ps, s + i * ps, ps);
    }
  return out;
}

RandomCrop::RandomCrop(int64_t size, int64_t padding, std::optional<uint64_t> seed)
    : RandomCrop(Size2{size, size}, padding, seed) {}

RandomCrop::RandomCrop(Size2 size, int64_t padding, std::optional<uint64_t> seed)
    : h_(size.height), w_(size.width), pad_(padding), rng_(seed) {
  NABLA_CHECK(h_ > 0 && w_ > 0 && padding >= 0, "RandomCrop: size must be positive and padding >= 0, got ",
              h_, " x ", w_, " with padding ", padding);
}

namespace {
void check_fits(int64_t h, int64_t w, int64_t th, int64_t tw, int64_t pad) {
  NABLA_CHECK(th <= h + 2 * pad && tw <= w + 2 * pad, "RandomCrop: crop size ", th, " x ", tw,
              " is larger than the padded image ", h + 2 * pad, " x ", w + 2 * pad);
}
}  // namespace

// Cropping the unpadded image at (i - pad, j - pad) with zero fill equals pad-then-crop.
Tensor RandomCrop::operator()(const Tensor& x) const {
  Planes p = planes_of(x, "RandomCrop");
  check_fits(p.h, p.w, h_, w_, pad_);
  int64_t i = 0, j = 0;
  rng_.with([&](Generator& g) {
    i = static_cast<int64_t>(g.next_u64() % uint64_t(p.h + 2 * pad_ - h_ + 1));
    j = static_cast<int64_t>(g.next_u64() % uint64_t(p.w + 2 * pad_ - w_ + 1));
  });
  return crop(p.src, i - pad_, j - pad_, h_, w_);
}

Tensor RandomCrop::batch(const Tensor& x) const {
  Planes p = planes_of(x, "RandomCrop");
  check_fits(p.h, p.w, h_, w_, pad_);
  int64_t per = planes_per_example(x, p, "RandomCrop");
  int64_t n = x.size(0);
  std::vector<int64_t> off(2 * n);
  rng_.with([&](Generator& g) {
    for (int64_t b = 0; b < n; ++b) {
      off[2 * b] = static_cast<int64_t>(g.next_u64() % uint64_t(p.h + 2 * pad_ - h_ + 1)) - pad_;
      off[2 * b + 1] = static_cast<int64_t>(g.next_u64() % uint64_t(p.w + 2 * pad_ - w_ + 1)) - pad_;
    }
  });
  Tensor out = empty(with_hw(x.shape(), h_, w_), x.dtype());
  size_t es = x.element_size(), ips = p.h * p.w * es, ops = h_ * w_ * es;
  auto* s = static_cast<const uint8_t*>(p.src.raw_data());
  auto* o = static_cast<uint8_t*>(out.raw_data());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = b * per; i < (b + 1) * per; ++i)
      crop_plane(s + i * ips, o + i * ops, p.h, p.w, off[2 * b], off[2 * b + 1], h_, w_, es);
  return out;
}

}  // namespace nabla::data::transforms
