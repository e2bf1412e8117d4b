// Tensor factories: zeros/ones/full/empty, ranges, eye, random (seeded), and from C++ data.
//   auto w = nabla::randn({784, 64}) * 0.01;
//   auto t = nabla::tensor({1.f, 2.f, 3.f});
//   auto m = nabla::tensor({{1, 2}, {3, 4}});             // int64 [2, 2]
#pragma once
#include <functional>
#include <initializer_list>
#include <optional>
#include <vector>

#include "nabla/generator.h"
#include "nabla/tensor.h"

namespace nabla {

/// dtype + device + requires_grad for factories: nabla::zeros({2}, kInt64), or {kFloat32, kCPU, true}.
struct TensorOptions {
  DType dtype = kFloat32;
  Device device = kCPU;
  bool requires_grad = false;
  TensorOptions() = default;
  TensorOptions(DType d) : dtype(d) {}
  TensorOptions(DType d, Device dev, bool rg = false) : dtype(d), device(dev), requires_grad(rg) {}
};

Tensor empty(const Shape& shape, TensorOptions opt = {});
Tensor zeros(const Shape& shape, TensorOptions opt = {});
Tensor ones(const Shape& shape, TensorOptions opt = {});
Tensor full(const Shape& shape, const Scalar& value, TensorOptions opt = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, const Scalar& value);
/// [start, end) with step; int64 when all three are integers, else float32.
Tensor arange(const Scalar& end);
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1);
Tensor linspace(double start, double end, int64_t steps, TensorOptions opt = {});
Tensor eye(int64_t n, int64_t m = -1, TensorOptions opt = {});
/// Uniform [0, 1) from the generator (the default one when null).
Tensor rand(const Shape& shape, TensorOptions opt = {}, Generator* gen = nullptr);
/// Standard normal.
Tensor randn(const Shape& shape, TensorOptions opt = {}, Generator* gen = nullptr);
/// Integers uniform in [low, high), int64 by default.
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions opt = kInt64,
               Generator* gen = nullptr);
Tensor rand_like(const Tensor& t, Generator* gen = nullptr);
Tensor randn_like(const Tensor& t, Generator* gen = nullptr);
/// A random permutation of 0..n-1 (int64).
Tensor randperm(int64_t n, Generator* gen = nullptr);

/// Copies the values into a new 1-d tensor. Like torch.tensor: floating values give the default
/// dtype (float32), integers int64, bool/uint8 themselves, unless `dtype` is given.
template <typename T>
Tensor tensor(const std::vector<T>& values, std::optional<DType> dtype = std::nullopt);
/// Copies the values into a tensor of the given shape (numel must match).
template <typename T>
Tensor tensor(const std::vector<T>& values, const Shape& shape, std::optional<DType> dtype = std::nullopt);
template <typename T>
Tensor tensor(std::initializer_list<T> values, std::optional<DType> dtype = std::nullopt) {
  return tensor(std::vector<T>(values), dtype);
}
/// 2-d literal: tensor({{1.f, 2.f}, {3.f, 4.f}}). Rows must have equal length.
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows,
              std::optional<DType> dtype = std::nullopt);

/// Wraps memory the caller owns (no copy). The buffer must outlive every tensor that views it;
/// `deleter`, if given, is called when the last view is gone.
Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter = {});
/// Copies `shape.numel()` elements of `dtype` from `data` into a new tensor.
Tensor from_buffer(const void* data, const Shape& shape, DType dtype);

}  // namespace nabla
