// Shape: a small inline vector of int64 (sizes or strides); no heap allocation.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "nabla/error.h"

namespace nabla {

/// Maximum number of dimensions of a tensor.
constexpr int kMaxDims = 8;

/// Fixed-capacity vector of int64 used for shapes and strides ("[2, 3]" when printed).
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> v) { assign(v.begin(), v.size()); }
  explicit Shape(const std::vector<int64_t>& v) { assign(v.data(), v.size()); }
  Shape(const int64_t* p, size_t n) { assign(p, n); }

  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t& operator[](int i) { return d_[i]; }
  int64_t operator[](int i) const { return d_[i]; }
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + n_; }
  int64_t* begin() { return d_; }
  int64_t* end() { return d_ + n_; }
  const int64_t* data() const { return d_; }
  int64_t back() const { return d_[n_ - 1]; }
  void push_back(int64_t v) {
    NABLA_CHECK(n_ < kMaxDims, "nabla supports at most ", kMaxDims, " dimensions");
    d_[n_++] = v;
  }
  void pop_back() { --n_; }
  void resize(int n, int64_t fill = 0) {
    NABLA_CHECK(n >= 0 && n <= kMaxDims, "nabla supports at most ", kMaxDims, " dimensions (got ", n, ")");
    for (int i = n_; i < n; ++i) d_[i] = fill;
    n_ = static_cast<int8_t>(n);
  }
  void insert(int pos, int64_t v) {
    push_back(0);
    for (int i = n_ - 1; i > pos; --i) d_[i] = d_[i - 1];
    d_[pos] = v;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
    --n_;
  }
  /// Product of the entries (1 for an empty shape).
  int64_t numel() const {
    int64_t p = 1;
    for (int i = 0; i < n_; ++i) p *= d_[i];
    return p;
  }
  /// False when the product of the nonzero entries overflows int64. numel() and the strides of
  /// such a shape are undefined even when one entry is 0 (e.g. (0, 2^40, 2^40)), so every parser of
  /// a declared shape refuses it before building a tensor.
  bool size_fits_int64() const {
    int64_t p = 1;
    for (int i = 0; i < n_; ++i)
      if (d_[i] != 0 && __builtin_mul_overflow(p, d_[i], &p)) return false;
    return true;
  }
  std::vector<int64_t> vec() const { return {d_, d_ + n_}; }
  bool operator==(const Shape& o) const {
    if (n_ != o.n_) return false;
    for (int i = 0; i < n_; ++i)
      if (d_[i] != o.d_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;

 private:
  void assign(const int64_t* p, size_t n) {
    NABLA_CHECK(n <= static_cast<size_t>(kMaxDims), "nabla supports at most ", kMaxDims, " dimensions (got ",
                n, ")");
    for (size_t i = 0; i < n; ++i) d_[i] = p[i];
    n_ = static_cast<int8_t>(n);
  }
  int64_t d_[kMaxDims] = {};
  int8_t n_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Shape& s);

/// Row-major (C order) strides for a shape.
Shape contiguous_strides(const Shape& shape);
/// NumPy broadcasting of two shapes; throws naming `op` if they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
/// Wraps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int wrap_dim(int64_t dim, int ndim, const char* op);

}  // namespace nabla
