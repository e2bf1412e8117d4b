// Scalar: a number argument (int, float or bool) that keeps its category for type promotion.
#pragma once
#include <cstdint>
#include <type_traits>

#include "nabla/dtype.h"

namespace nabla {

/// A C++ number passed to an op: `x + 1` keeps an int tensor int, `x + 0.5` makes it float.
class Scalar {
 public:
  Scalar() = default;
  Scalar(bool v) : d_(v), i_(v), kind_(kBool) {}
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Scalar(T v) : d_(static_cast<double>(v)), i_(static_cast<int64_t>(v)), kind_(kInt64) {}
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Scalar(T v) : d_(static_cast<double>(v)), i_(static_cast<int64_t>(v)), kind_(kFloat64) {}

  double to_double() const { return d_; }
  int64_t to_int() const { return i_; }
  bool is_floating() const { return kind_ == kFloat64; }
  bool is_integral() const { return kind_ == kInt64; }
  bool is_bool() const { return kind_ == kBool; }
  /// kBool, kInt64 or kFloat64: the dtype of the number as written.
  DType dtype() const { return kind_; }
  template <typename T>
  T to() const {
    if constexpr (std::is_same_v<T, double>)
      return d_;
    else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
      return T(static_cast<float>(d_));
    else if constexpr (std::is_same_v<T, bool>)
      return d_ != 0;
    else
      return kind_ == kFloat64 ? static_cast<T>(d_) : static_cast<T>(i_);
  }

 private:
  double d_ = 0;
  int64_t i_ = 0;
  DType kind_ = kInt64;
};

}  // namespace nabla
