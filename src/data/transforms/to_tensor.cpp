// ToTensor and Normalize: the per-pixel conversions. Both write one contiguous output in a single
// pass (no intermediate tensors), since they run on every batch of a training loop.
#include <array>
#include <bit>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "data/transforms/fused.h"
#include "nabla/creation.h"
#include "nabla/data/transforms.h"
#include "nabla/ops.h"

namespace nabla::data::transforms {
namespace {

#if defined(__AVX512VBMI__)
// 64 lookups at a time without a gather: the table's floats split into four 256-byte planes (byte
// b of every entry), each plane looked up with two vpermi2b (128 entries each) and a blend on the
// index's top bit, then the four byte planes interleaved back into floats with unpacks. ~1.5x the
// AVX-512 gather on this machine (which is slowed by the gather-data-sampling mitigation); the
// values are the table's bits either way.
void lookup64(const uint8_t* s, float* o, int64_t n, const float* lut, int64_t& p) {
  alignas(64) uint8_t planes[4][256];
  for (int i = 0; i < 256; ++i) {
    uint32_t u = std::bit_cast<uint32_t>(lut[i]);
    for (int b = 0; b < 4; ++b) planes[b][i] = static_cast<uint8_t>(u >> (8 * b));
  }
  __m512i t0[4], t1[4], t2[4], t3[4];
  for (int b = 0; b < 4; ++b) {
    t0[b] = _mm512_load_si512(planes[b]);
    t1[b] = _mm512_load_si512(planes[b] + 64);
    t2[b] = _mm512_load_si512(planes[b] + 128);
    t3[b] = _mm512_load_si512(planes[b] + 192);
  }
  // The unpacks work within 128-bit lanes: unpacklo/hi_epi8 then unpacklo/hi_epi16 turn source byte
  // l*16 + g*4 + q (lane l, group g) into float 4l + q of output register g. Permute the indices
  // first so that output register g holds pixels 16g .. 16g + 15 in order.
  alignas(64) uint8_t order[64];
  for (int l = 0; l < 4; ++l)
    for (int g = 0; g < 4; ++g)
      for (int q = 0; q < 4; ++q) order[l * 16 + g * 4 + q] = static_cast<uint8_t>(g * 16 + 4 * l + q);
  const __m512i perm = _mm512_load_si512(order);
  for (; p + 64 <= n; p += 64) {
    __m512i idx = _mm512_permutexvar_epi8(perm, _mm512_loadu_si512(s + p));
    __mmask64 high = _mm512_movepi8_mask(idx);
    __m512i b[4];
    for (int k = 0; k < 4; ++k)
      b[k] = _mm512_mask_blend_epi8(high, _mm512_permutex2var_epi8(t0[k], idx, t1[k]),
                                    _mm512_permutex2var_epi8(t2[k], idx, t3[k]));
    __m512i w01l = _mm512_unpacklo_epi8(b[0], b[1]), w01h = _mm512_unpackhi_epi8(b[0], b[1]);
    __m512i w23l = _mm512_unpacklo_epi8(b[2], b[3]), w23h = _mm512_unpackhi_epi8(b[2], b[3]);
    _mm512_storeu_si512(o + p, _mm512_unpacklo_epi16(w01l, w23l));
    _mm512_storeu_si512(o + p + 16, _mm512_unpackhi_epi16(w01l, w23l));
    _mm512_storeu_si512(o + p + 32, _mm512_unpacklo_epi16(w01h, w23h));
    _mm512_storeu_si512(o + p + 48, _mm512_unpackhi_epi16(w01h, w23h));
  }
}
#endif

// o[p] = lut[s[p]] for p < n. With AVX-512/AVX2 a gather does 16/8 lookups at a time (~1.7x the
// scalar loop on a 32 x 28 x 28 batch); with AVX-512 VBMI byte permutes do 64 (above). The values
// are the table's either way.
void lookup(const uint8_t* s, float* o, int64_t n, const float* lut) {
  int64_t p = 0;
#if defined(__AVX512VBMI__)
  if (n >= 256) lookup64(s, o, n, lut, p);  // building the planes costs ~256 table reads
#endif
#if defined(__AVX512F__)
  for (; p + 16 <= n; p += 16) {
    __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + p)));
    _mm512_storeu_ps(o + p, _mm512_i32gather_ps(idx, lut, 4));
  }
#elif defined(__AVX2__)
  for (; p + 8 <= n; p += 8) {
    __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + p)));
    _mm256_storeu_ps(o + p, _mm256_i32gather_ps(lut, idx, 4));
  }
#endif
  for (; p < n; ++p) o[p] = lut[s[p]];
}

// uint8 [N, H, W, C] (contiguous) -> float32 [N, C, H, W] through one 256-entry table per channel:
// the conversion is a table lookup, so any per-value float formula costs nothing per pixel.
Tensor hwc_u8_to_chw(const Tensor& x, int64_t n, int64_t h, int64_t w, int64_t c,
                     const std::vector<const float*>& luts) {
  Tensor src = x.contiguous();
  Tensor out = empty({n, c, h, w}, kFloat32);
  const uint8_t* s = src.data_ptr<uint8_t>();
  float* o = out.data_ptr<float>();
  int64_t hw = h * w;
  if (c == 1) {  // one channel: the layouts agree, the batch is one run of pixels
    lookup(s, o, n * hw, luts[0]);
    return out;
  }
  for (int64_t b = 0; b < n; ++b) {
    const uint8_t* sb = s + b * hw * c;
    float* ob = o + b * hw * c;
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t ch = 0; ch < c; ++ch) ob[ch * hw + p] = luts[ch][sb[p * c + ch]];
  }
  return out;
}

// v / 255 as a float division (not multiplication by 1/255): torchvision's img.float().div(255),
// bit for bit.
const std::array<float, 256>& scale_lut() {
  static const std::array<float, 256> lut = [] {
    std::array<float, 256> t;
    for (int i = 0; i < 256; ++i) t[i] = static_cast<float>(i) / 255.0f;
    return t;
  }();
  return lut;
}

// The tables of ToTensor + Normalize for channels 0..c-1: (v / 255 - m) / sd in float32, which is
// what the two passes compute (torchvision's sub_ and div_ with mean and std cast to float). Kept
// per thread and (m, sd), since a loader asks for the same ones every batch and 512 divisions per
// channel would be a noticeable part of the pass. The pointers stay valid until the next call.
std::vector<const float*> normalized_luts(const std::vector<double>& mean, const std::vector<double>& std,
                                          int64_t c) {
  // Keyed by bit patterns (NaN-safe); map nodes never move.
  thread_local std::map<std::pair<uint32_t, uint32_t>, std::array<float, 256>> cache;
  if (cache.size() + c > 64) cache.clear();
  std::vector<const float*> luts(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    size_t k = mean.size() == 1 ? 0 : size_t(ch);
    float m = static_cast<float>(mean[k]), sd = static_cast<float>(std[k]);
    auto [it, fresh] = cache.try_emplace({std::bit_cast<uint32_t>(m), std::bit_cast<uint32_t>(sd)});
    if (fresh) {
      it->second = scale_lut();
      for (float& v : it->second) v = (v - m) / sd;
    }
    luts[ch] = it->second.data();
  }
  return luts;
}

// Shape checks shared by ToTensor and the fused ToTensor + Normalize; {n, h, w, c}.
std::array<int64_t, 4> image_dims(const Tensor& x, bool batched) {
  const char* who = batched ? "ToTensor.batch" : "ToTensor";
  int lead = batched ? 1 : 0;
  NABLA_CHECK(x.dim() == 2 + lead || x.dim() == 3 + lead, who, ": expected an image ",
              batched ? "batch [N, H, W] or [N, H, W, C]" : "[H, W] or [H, W, C]", ", got shape ", x.shape());
  int64_t n = batched ? x.size(0) : 1;
  int64_t c = x.dim() == 3 + lead ? x.size(lead + 2) : 1;
  return {n, x.size(lead), x.size(lead + 1), c};
}

void check_normalize_args(const std::vector<double>& mean, const std::vector<double>& std, int64_t c,
                          const Shape& shape) {
  NABLA_CHECK(mean.size() == std.size() && (mean.size() == 1 || int64_t(mean.size()) == c),
              "Normalize: mean has ", mean.size(), " values and std ", std.size(), "; expected 1 or C = ", c,
              " each (input shape ", shape, ")");
  for (double s : std) NABLA_CHECK(s != 0.0, "Normalize: std evaluated to zero, leading to division by zero");
}

Tensor convert(const Tensor& x, bool batched) {
  int lead = batched ? 1 : 0;
  auto [n, h, w, c] = image_dims(x, batched);
  if (x.dtype() == kUInt8) {
    Tensor out = hwc_u8_to_chw(x, n, h, w, c, std::vector<const float*>(c, scale_lut().data()));
    return batched ? out : out.squeeze(0);
  }
  // Other dtypes: layout change only, like torchvision (which scales only ByteTensors).
  Tensor y = x.dim() == 2 + lead ? x.unsqueeze(lead + 2) : x;
  y = batched ? y.permute({0, 3, 1, 2}) : y.permute({2, 0, 1});
  return y.contiguous();
}

}  // namespace

namespace detail {

Tensor to_tensor_normalize(const Tensor& x, bool batched, const std::vector<double>& mean,
                           const std::vector<double>& std) {
  auto [n, h, w, c] = image_dims(x, batched);
  check_normalize_args(mean, std, c, batched ? Shape{n, c, h, w} : Shape{c, h, w});
  std::vector<const float*> luts = normalized_luts(mean, std, c);
  Tensor out = hwc_u8_to_chw(x, n, h, w, c, luts);
  return batched ? out : out.squeeze(0);
}

}  // namespace detail

Tensor to_tensor(const Tensor& image) { return convert(image, false); }
Tensor ToTensor::operator()(const Tensor& x) const { return convert(x, false); }
Tensor ToTensor::batch(const Tensor& x) const { return convert(x, true); }

Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& std) {
  NABLA_CHECK(x.dtype() == kFloat32 || x.dtype() == kFloat64,
              "Normalize: expected a float32 or float64 tensor, got ", x.dtype(), " (apply ToTensor first)");
  NABLA_CHECK(x.dim() >= 3, "Normalize: expected [..., C, H, W], got shape ", x.shape());
  int64_t c = x.size(-3);
  check_normalize_args(mean, std, c, x.shape());
  Tensor src = x.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  int64_t hw = x.size(-1) * x.size(-2);
  int64_t planes = hw ? x.numel() / hw : 0;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T* s = src.data_ptr<T>();
      T* o = out.data_ptr<T>();
      for (int64_t p = 0; p < planes; ++p) {
        size_t ch = mean.size() == 1 ? 0 : size_t(p % c);
        // torchvision casts mean/std to the tensor dtype, then sub_ and div_.
        T m = static_cast<T>(mean[ch]), sd = static_cast<T>(std[ch]);
        for (int64_t i = 0; i < hw; ++i) o[p * hw + i] = (s[p * hw + i] - m) / sd;
      }
    }
  });
  return out;
}

Normalize::Normalize(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  NABLA_CHECK(!mean_.empty() && mean_.size() == std_.size(), "Normalize: mean (", mean_.size(),
              " values) and std (", std_.size(), " values) must be non-empty and the same length");
  for (double s : std_)
    NABLA_CHECK(s != 0.0, "Normalize: std evaluated to zero, leading to division by zero");
}

Tensor Normalize::operator()(const Tensor& x) const { return normalize(x, mean_, std_); }

}  // namespace nabla::data::transforms
