// Small option types shared by the nn layers.
//   nabla::nn::Conv2d conv({.in = 1, .out = 32, .kernel = 3});          // 3 means {3, 3}
//   nabla::nn::MaxPool2d pool({.kernel = {2, 3}});
#pragma once
#include <cstddef>
#include <cstdint>

namespace nabla::nn {

/// A (height, width) pair that also accepts one number for both: `3` or `{3, 5}`.
struct Size2 {
  int64_t v[2] = {0, 0};
  Size2() = default;
  Size2(int64_t x) : v{x, x} {}
  Size2(int64_t h, int64_t w) : v{h, w} {}
  int64_t operator[](int i) const { return v[i]; }
  bool operator==(const Size2& o) const { return v[0] == o.v[0] && v[1] == o.v[1]; }
};

/// Convolution padding: a size (`1`, `{1, 2}`) or PyTorch's `"same"` (output size = input size,
/// stride 1 only; an odd total puts the extra row/column at the end) or `"valid"` (none).
struct ConvPadding : Size2 {
  enum Kind { kExplicit, kSame, kValid };
  Kind kind = kExplicit;
  ConvPadding() = default;
  ConvPadding(int64_t x) : Size2(x) {}
  ConvPadding(int64_t h, int64_t w) : Size2(h, w) {}
  ConvPadding(const Size2& s) : Size2(s) {}
  /// "same" or "valid" (a string literal, so that `0` stays a size); else nabla::Error.
  template <size_t N>
  ConvPadding(const char (&name)[N]) : kind(parse(name)) {}
  static Kind parse(const char* name);
};

}  // namespace nabla::nn
