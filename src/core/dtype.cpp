#include "nabla/dtype.h"

#include <atomic>

#include "nabla/error.h"

namespace nabla {

const char* dtype_name(DType t) {
  static const char* names[] = {"bool",    "uint8",    "int32",   "int64",
                                "float16", "bfloat16", "float32", "float64"};
  return names[static_cast<int>(t)];
}

std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

DType promote_types(DType a, DType b) {
  // The enum is ordered so that the larger type wins, except float16 with bfloat16 (neither holds
  // the other), which PyTorch promotes to float32.
  if ((a == kFloat16 && b == kBFloat16) || (a == kBFloat16 && b == kFloat16)) return kFloat32;
  return a > b ? a : b;
}

namespace {
std::atomic<DType> g_default_dtype{kFloat32};
}
DType default_dtype() { return g_default_dtype.load(std::memory_order_relaxed); }
void set_default_dtype(DType t) {
  NABLA_CHECK(t == kFloat32 || t == kFloat64, "set_default_dtype: only float32 or float64 allowed, got ",
              dtype_name(t));
  g_default_dtype = t;
}

// IEEE 754 binary16 <-> binary32, round to nearest even.
Half::Half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t absx = x & 0x7fffffff;
  if (absx > 0x7f800000) {
    bits = static_cast<uint16_t>(sign | 0x7e00);
    return;
  }  // NaN
  if (absx >= 0x47800000) {
    bits = static_cast<uint16_t>(sign | 0x7c00);
    return;
  }                         // overflow -> inf
  if (absx < 0x38800000) {  // subnormal half (or zero)
    float af;
    std::memcpy(&af, &absx, 4);
    // Scale so the half subnormal's LSB (2^-24) becomes 1, then round to nearest even.
    float scaled = af * 16777216.0f;
    uint32_t m = static_cast<uint32_t>(scaled);
    float rem = scaled - static_cast<float>(m);
    if (rem > 0.5f || (rem == 0.5f && (m & 1))) ++m;
    bits = static_cast<uint16_t>(sign | m);
    return;
  }
  uint32_t mant = absx & 0x7fffff;
  uint32_t exp = (absx >> 23) - 127 + 15;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;  // may carry into the exponent: correct
  bits = static_cast<uint16_t>(sign | h);
}

Half::operator float() const {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exp = (bits >> 10) & 0x1f;
  uint32_t mant = bits & 0x3ff;
  uint32_t x;
  if (exp == 0x1f) {
    x = sign | 0x7f800000 | (mant << 13);
  } else if (exp == 0) {
    float f = static_cast<float>(mant) * 0x1.0p-24f;
    std::memcpy(&x, &f, 4);
    x |= sign;
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace nabla
