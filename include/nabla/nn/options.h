// Small option types shared by the nn layers.
//   nabla::nn::Conv2d conv({.in = 1, .out = 32, .kernel = 3});          // 3 means {3, 3}
//   nabla::nn::MaxPool2d pool({.kernel = {2, 3}});
#pragma once
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

}  // namespace nabla::nn
