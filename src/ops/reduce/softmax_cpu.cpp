// CPU kernels of softmax and log_softmax along one dim.
//
// The input (made contiguous) is [outer, n, inner]. Each softmax subtracts its maximum first, so
// exp never overflows (inputs like 1000 and -1000 give exact 1 and 0). Sums of exponentials
// accumulate in double, in a fixed order per row/column, so results do not depend on threads.
// float32 uses SLEEF's vector exp (ops/elementwise/simd.h); other dtypes the C library.
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "nabla/autograd.h"
#include "ops/cpu_loops.h"
#include "ops/elementwise/simd.h"
#include "ops/reduce/reduce.h"
#include "ops/reduce/softmax_row.h"

namespace nabla::ops::reduce_cpu {
namespace {

using cpu::compute_t;
constexpr int kInnerTile = 64;  // columns per task along a non-innermost dim (a multiple of simd::kW)

// ---- float32 columns: a tile of kInnerTile neighbouring columns, so reads along n are contiguous ----
template <bool kLog>
void columns_f32(const float* x, float* y, int64_t n, int64_t inner, int w) {
  alignas(64) float m[kInnerTile], buf[kInnerTile];
  double s[kInnerTile] = {};
  for (float& v : m) v = -std::numeric_limits<float>::infinity();
  for (int64_t k = 0; k < n; ++k) {
    const float* r = x + k * inner;
    for (int j = 0; j < w; ++j) m[j] = r[j] > m[j] ? r[j] : m[j];
  }
  for (int j = w; j < kInnerTile; ++j) m[j] = 0;  // padding lanes compute exp(0) and are dropped
  for (int64_t k = 0; k < n; ++k) {
    std::memcpy(buf, x + k * inner, w * sizeof(float));
    for (int j = w; j < kInnerTile; ++j) buf[j] = 0;
    for (int j = 0; j < kInnerTile; j += simd::kW)
      simd::vstore(buf + j, simd::vexp(simd::vload(buf + j) - simd::vload(m + j)));
    for (int j = 0; j < w; ++j) s[j] += buf[j];
    if constexpr (!kLog) std::memcpy(y + k * inner, buf, w * sizeof(float));
  }
  if constexpr (kLog) {
    for (int j = 0; j < w; ++j) buf[j] = static_cast<float>(std::log(s[j]));
    for (int64_t k = 0; k < n; ++k)
      for (int j = 0; j < w; ++j) y[k * inner + j] = (x[k * inner + j] - m[j]) - buf[j];
  } else {
    for (int j = 0; j < w; ++j) buf[j] = static_cast<float>(1.0 / s[j]);
    for (int64_t k = 0; k < n; ++k)
      for (int j = 0; j < w; ++j) y[k * inner + j] *= buf[j];
  }
}

// ---- any floating dtype (double, float16, bfloat16): scalar, computing in compute_t ----
template <bool kLog, typename T>
void columns_generic(const T* x, T* y, int64_t n, int64_t inner, int w) {
  using C = compute_t<T>;
  C m[kInnerTile], ls[kInnerTile];
  double s[kInnerTile] = {};
  for (int j = 0; j < w; ++j) m[j] = -std::numeric_limits<C>::infinity();
  for (int64_t k = 0; k < n; ++k)
    for (int j = 0; j < w; ++j) {
      C v = static_cast<C>(x[k * inner + j]);
      m[j] = v > m[j] ? v : m[j];
    }
  for (int64_t k = 0; k < n; ++k)
    for (int j = 0; j < w; ++j) s[j] += std::exp(static_cast<C>(x[k * inner + j]) - m[j]);
  for (int j = 0; j < w; ++j) ls[j] = kLog ? static_cast<C>(std::log(s[j])) : static_cast<C>(1.0 / s[j]);
  for (int64_t k = 0; k < n; ++k)
    for (int j = 0; j < w; ++j) {
      C v = static_cast<C>(x[k * inner + j]) - m[j];
      y[k * inner + j] = T(kLog ? v - ls[j] : std::exp(v) * ls[j]);
    }
}

template <bool kLog, typename T>
void run_typed(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1) {
    cpu::parallel_for(0, outer, std::max<int64_t>(1, cpu::kGrainSize / n), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        if constexpr (std::is_same_v<T, float>)
          row_f32<kLog>(x + r * n, y + r * n, n);
        else
          columns_generic<kLog>(x + r * n, y + r * n, n, 1, 1);
      }
    });
    return;
  }
  int64_t tiles = (inner + kInnerTile - 1) / kInnerTile;
  int64_t grain = std::max<int64_t>(1, cpu::kGrainSize / (n * kInnerTile));
  cpu::parallel_for(0, outer * tiles, grain, [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; ++task) {
      int64_t o = task / tiles, j0 = (task % tiles) * kInnerTile;
      int w = static_cast<int>(std::min<int64_t>(kInnerTile, inner - j0));
      int64_t base = o * n * inner + j0;
      if constexpr (std::is_same_v<T, float>)
        columns_f32<kLog>(x + base, y + base, n, inner, w);
      else
        columns_generic<kLog>(x + base, y + base, n, inner, w);
    }
  });
}

template <bool kLog>
void run(const Tensor* in, Tensor* out, const Attrs& a) {
  if (out[0].numel() == 0) return;
  Tensor x;
  {
    NoGradGuard no_grad;  // the copy is an implementation detail, not part of the graph
    x = in[0].is_contiguous() ? in[0] : in[0].contiguous();
  }
  int d = static_cast<int>(a.i[1]);
  int64_t outer = 1, inner = 1, n = x.shape()[d];
  for (int i = 0; i < d; ++i) outer *= x.shape()[i];
  for (int i = d + 1; i < x.dim(); ++i) inner *= x.shape()[i];
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<compute_t<T>>)  // infer admits floating dtypes only
      run_typed<kLog>(static_cast<const T*>(x.raw_data()), static_cast<T*>(out[0].raw_data()), outer, n,
                      inner);
  });
}

}  // namespace

void softmax(const Tensor* in, int, Tensor* out, const Attrs& a) { run<false>(in, out, a); }
void log_softmax(const Tensor* in, int, Tensor* out, const Attrs& a) { run<true>(in, out, a); }

}  // namespace nabla::ops::reduce_cpu
