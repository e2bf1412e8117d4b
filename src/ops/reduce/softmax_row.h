// Internal: one float32 (log-)softmax row, shared by the softmax/log_softmax kernels and the fused
// softmax cross-entropy of compiled training steps (ops/reduce/xent.cpp), so both produce the same
// bits. The maximum is taken over 16 interleaved lanes, the sum of exponentials accumulates in
// double in a fixed order.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "ops/elementwise/simd.h"

namespace nabla::ops::reduce_cpu {

constexpr int kRowLanes = 16;

/// y = softmax(x) (or log_softmax when kLog) over n contiguous floats; y may not alias x.
template <bool kLog>
inline void row_f32(const float* x, float* y, int64_t n) {
  float lane[kRowLanes];
  for (float& v : lane) v = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kRowLanes <= n; i += kRowLanes)
    for (int j = 0; j < kRowLanes; ++j) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
  for (int j = 0; i < n; ++i, ++j) lane[j] = x[i] > lane[j] ? x[i] : lane[j];
  float m = lane[0];
  for (int j = 1; j < kRowLanes; ++j) m = lane[j] > m ? lane[j] : m;
  // A NaN anywhere makes the sum NaN, so the whole row is NaN, as in PyTorch.
  simd::map(x, y, n, [m](simd::VF v) { return simd::vexp(v - simd::vset(m)); });
  double acc[kRowLanes] = {};
  i = 0;
  for (; i + kRowLanes <= n; i += kRowLanes)
    for (int j = 0; j < kRowLanes; ++j) acc[j] += y[i + j];
  for (int j = 0; i < n; ++i, ++j) acc[j] += y[i];
  double s = 0;
  for (double v : acc) s += v;
  if constexpr (kLog) {
    float ls = static_cast<float>(std::log(s));
    for (int64_t k = 0; k < n; ++k) y[k] = (x[k] - m) - ls;
  } else {
    float inv = static_cast<float>(1.0 / s);
    for (int64_t k = 0; k < n; ++k) y[k] *= inv;
  }
}

}  // namespace nabla::ops::reduce_cpu
