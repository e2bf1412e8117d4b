// Resize (bilinear) and rotation: resampling with torchvision's exact coordinate conventions, so
// results match F.resize(antialias=False) and F.rotate to float rounding. uint8 images are
// resampled in float32 and rounded half-to-even like torchvision's torch.round.
#include <cmath>

#include "nabla/creation.h"
#include "nabla/data/transforms.h"

namespace nabla::data::transforms {
namespace {

template <typename T>
using Compute = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename T, typename C>
T store(C v) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    C r = std::nearbyint(v);
    return static_cast<uint8_t>(r < 0 ? 0 : (r > 255 ? 255 : r));
  } else {
    return static_cast<T>(v);
  }
}

// Calls f(T{}) for the dtypes the resampling transforms accept.
template <typename F>
void visit_image_dtype(DType t, const char* who, F&& f) {
  switch (t) {
    case kUInt8:
      return f(uint8_t{});
    case kFloat32:
      return f(float{});
    case kFloat64:
      return f(double{});
    default:
      ::nabla::detail::throw_error(who, ": unsupported dtype ", t, " (expected uint8, float32 or float64)");
  }
}

// Source index pair + weights along one axis (PyTorch upsample, align_corners=False).
struct Tap {
  int64_t i0, i1;
  float l0, l1;
};
std::vector<Tap> linear_taps(int64_t in, int64_t out) {
  std::vector<Tap> taps(out);
  float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t d = 0; d < out; ++d) {
    Tap& t = taps[d];
    if (in == out) {
      t = {d, d, 1.f, 0.f};
      continue;
    }
    // PyTorch evaluates scale * (dst + 0.5) - 0.5 in double, then stores it as float.
    float src = static_cast<float>(scale * (d + 0.5) - 0.5);
    if (src < 0) src = 0;
    t.i0 = static_cast<int64_t>(src);
    t.i1 = t.i0 + (t.i0 < in - 1 ? 1 : 0);
    t.l1 = std::min(std::max(src - static_cast<float>(t.i0), 0.f), 1.f);
    t.l0 = 1.f - t.l1;
  }
  return taps;
}

Shape with_hw(const Shape& s, int64_t h, int64_t w) {
  Shape r = s;
  r[r.size() - 2] = h;
  r[r.size() - 1] = w;
  return r;
}

}  // namespace

Tensor resize(const Tensor& x, int64_t height, int64_t width) {
  NABLA_CHECK(x.dim() >= 2, "Resize: expected an image [..., H, W], got shape ", x.shape());
  NABLA_CHECK(height > 0 && width > 0, "Resize: output size must be positive, got ", height, " x ", width);
  int64_t h = x.size(-2), w = x.size(-1);
  NABLA_CHECK(h > 0 && w > 0, "Resize: cannot resize an empty image of shape ", x.shape());
  Tensor src = x.contiguous();
  Tensor out = empty(with_hw(x.shape(), height, width), x.dtype());
  int64_t planes = x.numel() / (h * w);
  auto ty = linear_taps(h, height), tx = linear_taps(w, width);
  visit_image_dtype(x.dtype(), "Resize", [&](auto tag) {
    using T = decltype(tag);
    using C = Compute<T>;
    const T* s = src.data_ptr<T>();
    T* o = out.data_ptr<T>();
    for (int64_t p = 0; p < planes; ++p) {
      const T* sp = s + p * h * w;
      T* op = o + p * height * width;
      for (int64_t r = 0; r < height; ++r) {
        const T* r0 = sp + ty[r].i0 * w;
        const T* r1 = sp + ty[r].i1 * w;
        C hl0 = ty[r].l0, hl1 = ty[r].l1;
        for (int64_t c = 0; c < width; ++c) {
          const Tap& t = tx[c];
          C wl0 = t.l0, wl1 = t.l1;
          // Same association as PyTorch's separable kernel: rows first, then the height blend.
          C top = C(r0[t.i0]) * wl0 + C(r0[t.i1]) * wl1;
          C bot = C(r1[t.i0]) * wl0 + C(r1[t.i1]) * wl1;
          op[r * width + c] = store<T>(top * hl0 + bot * hl1);
        }
      }
    }
  });
  return out;
}

Resize::Resize(int64_t size) : h_(size), w_(-1) {
  NABLA_CHECK(size > 0, "Resize: size must be positive, got ", size);
}
Resize::Resize(int64_t height, int64_t width) : h_(height), w_(width) {
  NABLA_CHECK(height > 0 && width > 0, "Resize: size must be positive, got ", height, " x ", width);
}

Tensor Resize::operator()(const Tensor& x) const {
  if (w_ >= 0) return resize(x, h_, w_);
  NABLA_CHECK(x.dim() >= 2, "Resize: expected an image [..., H, W], got shape ", x.shape());
  // torchvision's _compute_resized_output_size: the shorter edge becomes `size`, the longer one
  // int(size * long / short).
  int64_t h = x.size(-2), w = x.size(-1);
  int64_t shorter = std::min(h, w), longer = std::max(h, w);
  NABLA_CHECK(shorter > 0, "Resize: cannot resize an empty image of shape ", x.shape());
  int64_t new_long = static_cast<int64_t>(static_cast<double>(h_) * longer / shorter);
  return w <= h ? resize(x, new_long, h_) : resize(x, h_, new_long);
}

namespace {

// Rotates every plane of one example. Mirrors torchvision: the inverse affine matrix in float32,
// a base grid centred on the image, grid_sample(align_corners=False), and fill through a mask of
// ones sampled the same way (img * mask + (1 - mask) * fill).
template <typename T>
void rotate_planes(const T* s, T* o, int64_t planes, int64_t h, int64_t w, double angle, Interpolation interp,
                   double fill) {
  using C = Compute<T>;
  double rot = -angle * M_PI / 180.0;  // torchvision passes -angle to _get_inverse_affine_matrix
  C m0 = C(std::cos(rot)), m1 = C(std::sin(rot)), m3 = C(-std::sin(rot)), m4 = C(std::cos(rot));
  C hw2 = C(0.5) * C(w), hh2 = C(0.5) * C(h);
  C a0 = m0 / hw2, a1 = m1 / hw2, b0 = m3 / hh2, b1 = m4 / hh2;
  C f = C(fill);
  for (int64_t r = 0; r < h; ++r) {
    C yb = C(r) - C(h) * C(0.5) + C(0.5);
    for (int64_t c = 0; c < w; ++c) {
      C xb = C(c) - C(w) * C(0.5) + C(0.5);
      C gx = xb * a0 + yb * a1, gy = xb * b0 + yb * b1;
      // PyTorch's CPU grid_sample unnormalises as (g + 1) * (size / 2) - 0.5.
      C ix = (gx + 1) * (C(w) / 2) - C(0.5), iy = (gy + 1) * (C(h) / 2) - C(0.5);
      int64_t idx = r * w + c;
      if (interp == Interpolation::kNearest) {
        int64_t xi = static_cast<int64_t>(std::nearbyint(ix)), yi = static_cast<int64_t>(std::nearbyint(iy));
        bool in = xi >= 0 && xi < w && yi >= 0 && yi < h;
        for (int64_t p = 0; p < planes; ++p)
          o[p * h * w + idx] = in ? s[p * h * w + yi * w + xi] : store<T>(f);
        continue;
      }
      C x0f = std::floor(ix), y0f = std::floor(iy);
      int64_t x0 = static_cast<int64_t>(x0f), y0 = static_cast<int64_t>(y0f);
      C wx1 = ix - x0f, wy1 = iy - y0f, wx0 = 1 - wx1, wy0 = 1 - wy1;
      const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
      const C ws[4] = {wx0 * wy0, wx1 * wy0, wx0 * wy1, wx1 * wy1};
      bool ok[4];
      C mask = 0;
      for (int k = 0; k < 4; ++k) {
        ok[k] = xs[k] >= 0 && xs[k] < w && ys[k] >= 0 && ys[k] < h;
        if (ok[k]) mask += ws[k];
      }
      for (int64_t p = 0; p < planes; ++p) {
        const T* sp = s + p * h * w;
        C v = 0;
        for (int k = 0; k < 4; ++k)
          if (ok[k]) v += C(sp[ys[k] * w + xs[k]]) * ws[k];
        o[p * h * w + idx] = store<T>(v * mask + (1 - mask) * f);
      }
    }
  }
}

Tensor rotate_impl(const Tensor& x, const std::vector<double>& angles, Interpolation interp, double fill,
                   const char* who) {
  NABLA_CHECK(x.dim() >= 2, who, ": expected an image [..., H, W], got shape ", x.shape());
  int64_t h = x.size(-2), w = x.size(-1);
  Tensor src = x.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  if (x.numel() == 0) return out;
  int64_t per = x.numel() / (h * w) / int64_t(angles.size());
  visit_image_dtype(x.dtype(), who, [&](auto tag) {
    using T = decltype(tag);
    for (size_t e = 0; e < angles.size(); ++e)
      rotate_planes(src.data_ptr<T>() + e * per * h * w, out.data_ptr<T>() + e * per * h * w, per, h, w,
                    angles[e], interp, fill);
  });
  return out;
}

}  // namespace

Tensor rotate(const Tensor& x, double angle, Interpolation interpolation, double fill) {
  return rotate_impl(x, {angle}, interpolation, fill, "rotate");
}

RandomRotation::RandomRotation(double degrees, Interpolation interpolation, double fill,
                               std::optional<uint64_t> seed)
    : degrees_(degrees), fill_(fill), interp_(interpolation), rng_(seed) {
  NABLA_CHECK(degrees >= 0, "RandomRotation: degrees must be >= 0, got ", degrees);
}

Tensor RandomRotation::operator()(const Tensor& x) const {
  double u = 0;
  rng_.with([&](Generator& g) { u = g.next_double(); });
  return rotate_impl(x, {(2 * u - 1) * degrees_}, interp_, fill_, "RandomRotation");
}

Tensor RandomRotation::batch(const Tensor& x) const {
  NABLA_CHECK(x.dim() >= 3, "RandomRotation.batch: expected a batch [N, ..., H, W], got shape ", x.shape());
  std::vector<double> angles(x.size(0));
  rng_.with([&](Generator& g) {
    for (auto& a : angles) a = (2 * g.next_double() - 1) * degrees_;
  });
  if (angles.empty()) return x.clone();
  return rotate_impl(x, angles, interp_, fill_, "RandomRotation");
}

}  // namespace nabla::data::transforms
