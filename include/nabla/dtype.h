// DType: element types, their sizes and PyTorch-style type promotion.
//
// float16 and bfloat16 are storage types: kernels convert them to float32 to compute.
//   auto t = nabla::zeros({2, 3}, nabla::kFloat64);
//   nabla::promote_types(nabla::kInt64, nabla::kFloat32);  // kFloat32
#pragma once
#include <cstdint>
#include <cstring>
#include <ostream>

namespace nabla {

enum class DType : uint8_t { Bool, UInt8, Int32, Int64, Float16, BFloat16, Float32, Float64 };
constexpr int kNumDTypes = 8;

constexpr DType kBool = DType::Bool;
constexpr DType kUInt8 = DType::UInt8;
constexpr DType kInt32 = DType::Int32;
constexpr DType kInt64 = DType::Int64;
constexpr DType kFloat16 = DType::Float16;
constexpr DType kBFloat16 = DType::BFloat16;
constexpr DType kFloat32 = DType::Float32;
constexpr DType kFloat64 = DType::Float64;

/// Bytes per element.
constexpr size_t dtype_size(DType t) {
  constexpr size_t sizes[] = {1, 1, 4, 8, 2, 2, 4, 8};
  return sizes[static_cast<int>(t)];
}
/// PyTorch's spelling: "float32", "int64", "bool", ...
const char* dtype_name(DType t);
constexpr bool is_floating(DType t) { return t >= DType::Float16; }
constexpr bool is_integral(DType t, bool include_bool = false) {
  return (t == DType::Bool && include_bool) || (t >= DType::UInt8 && t <= DType::Int64);
}
/// PyTorch's promote_types: the smallest type both can be converted to without losing the category.
DType promote_types(DType a, DType b);
/// Default float type of factories and of int -> float promotion (true division, mean, ...).
DType default_dtype();
void set_default_dtype(DType t);
std::ostream& operator<<(std::ostream& os, DType t);

/// IEEE binary16, storage only.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f);
  operator float() const;
};
/// bfloat16 (upper half of a float32), storage only; rounds to nearest even.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffff) > 0x7f800000) {
      bits = 0x7fc0;
      return;
    }  // NaN
    u += 0x7fff + ((u >> 16) & 1);
    bits = static_cast<uint16_t>(u >> 16);
  }
  operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

/// C++ type -> DType.
template <typename T>
struct dtype_of;
template <>
struct dtype_of<bool> {
  static constexpr DType value = kBool;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = kUInt8;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = kInt32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = kInt64;
};
template <>
struct dtype_of<Half> {
  static constexpr DType value = kFloat16;
};
template <>
struct dtype_of<BFloat16> {
  static constexpr DType value = kBFloat16;
};
template <>
struct dtype_of<float> {
  static constexpr DType value = kFloat32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = kFloat64;
};

/// Calls f(T{}) with the C++ type for `t`: visit_dtype(t, [&](auto tag) { using T = decltype(tag); ... }).
template <typename F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Bool:
      return f(bool{});
    case DType::UInt8:
      return f(uint8_t{});
    case DType::Int32:
      return f(int32_t{});
    case DType::Int64:
      return f(int64_t{});
    case DType::Float16:
      return f(Half{});
    case DType::BFloat16:
      return f(BFloat16{});
    case DType::Float32:
      return f(float{});
    case DType::Float64:
      return f(double{});
  }
  __builtin_unreachable();
}

}  // namespace nabla
