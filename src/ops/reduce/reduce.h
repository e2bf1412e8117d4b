// Internal: CPU kernels of the reduction family (registered by defs.cpp).
#pragma once
#include <cstdint>

#include "ops/registry.h"

namespace nabla::ops::reduce_cpu {
// attrs.shape = reduced dims (sorted, unique), i0 = keepdim.
void sum(const Tensor* in, int n, Tensor* out, const Attrs& a);
void prod(const Tensor* in, int n, Tensor* out, const Attrs& a);
void amax(const Tensor* in, int n, Tensor* out, const Attrs& a);
void amin(const Tensor* in, int n, Tensor* out, const Attrs& a);
// i1 = dim: values + int64 indices (max_dim/min_dim) or indices only (argmax/argmin).
void max_dim(const Tensor* in, int n, Tensor* out, const Attrs& a);
void min_dim(const Tensor* in, int n, Tensor* out, const Attrs& a);
void argmax(const Tensor* in, int n, Tensor* out, const Attrs& a);
void argmin(const Tensor* in, int n, Tensor* out, const Attrs& a);
// i1 = dim.
void softmax(const Tensor* in, int n, Tensor* out, const Attrs& a);
void log_softmax(const Tensor* in, int n, Tensor* out, const Attrs& a);
/// The sum of n contiguous floats or doubles, in the same order (so to the same bits) as the sum
/// kernel over a contiguous run of n elements. Single-threaded.
template <typename T>
T sum_contiguous(const T* p, int64_t n);
// Graph-only fused ops (ops/reduce/xent.cpp).
void register_softmax_xent();
/// Bytes of scratch softmax_xent takes for `rows` rows (for Node::workspace).
int64_t softmax_xent_workspace(int64_t rows, DType dtype);
}  // namespace nabla::ops::reduce_cpu

#include <limits>

#include "ops/elementwise/simd.h"

namespace nabla::ops::reduce_cpu {
/// Max (kMax) or min of n contiguous floats with SIMD lanes; NaN if any element is NaN (like
/// PyTorch). The order of comparisons does not change the result, so this is thread-safe to use
/// anywhere.
template <bool kMax>
inline float extreme_f32(const float* p, int64_t n) {
  constexpr float kInit =
      kMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  float r = kInit;
  bool nan = false;
  int64_t i = 0;
#if defined(__AVX512F__) || defined(__AVX2__)
  {
    simd::VF m = simd::vset(kInit);
    auto nanm = m != m;
    for (; i + simd::kW <= n; i += simd::kW) {
      simd::VF v = simd::vload(p + i);
      m = kMax ? (v > m ? v : m) : (v < m ? v : m);
      nanm |= v != v;
    }
    float lanes[simd::kW];
    simd::vstore(lanes, m);
    for (int j = 0; j < simd::kW; ++j) {
      r = kMax ? (lanes[j] > r ? lanes[j] : r) : (lanes[j] < r ? lanes[j] : r);
      nan |= nanm[j] != 0;
    }
  }
#endif
  for (; i < n; ++i) {
    r = kMax ? (p[i] > r ? p[i] : r) : (p[i] < r ? p[i] : r);
    nan |= p[i] != p[i];
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : r;
}
}  // namespace nabla::ops::reduce_cpu
