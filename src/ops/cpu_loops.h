// Internal: CPU loop helpers shared by kernels. A kernel describes N operands (output first) by
// shape + element strides; make_loop merges dims that are contiguous in every operand, so most
// loops collapse to one flat row; for_each_row then visits rows of a linear index range, which
// parallel_for splits across threads.
#pragma once
#include <cstdint>

#include "backend/cpu/parallel.h"
#include "nabla/tensor.h"

namespace nabla::cpu {

/// Compute type of a storage type: float for the 16-bit floats, itself otherwise.
template <typename T>
struct compute {
  using type = T;
};
template <>
struct compute<Half> {
  using type = float;
};
template <>
struct compute<BFloat16> {
  using type = float;
};
template <typename T>
using compute_t = typename compute<T>::type;

/// Strides of `t` seen through broadcasting to `shape` (0 along broadcast dims).
inline Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  Shape st;
  st.resize(shape.size());
  int off = shape.size() - t.dim();
  for (int i = 0; i < shape.size(); ++i) {
    int j = i - off;
    st[i] = (j < 0 || t.shape()[j] == 1) ? 0 : t.strides()[j];
  }
  return st;
}

template <int N>
struct Loop {
  int ndim = 0;
  int64_t size[kMaxDims] = {};
  int64_t stride[N][kMaxDims] = {};
  int64_t numel = 1;
};

/// Builds a loop over `shape` for N operands with the given element strides (each of length
/// shape.size()); drops size-1 dims and merges dims that are contiguous for every operand.
template <int N>
Loop<N> make_loop(const Shape& shape, const Shape* const (&strides)[N]) {
  Loop<N> L;
  L.numel = shape.numel();
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (L.ndim > 0) {
      bool merge = true;
      for (int k = 0; k < N; ++k)
        if (L.stride[k][L.ndim - 1] != (*strides[k])[d] * shape[d]) merge = false;
      if (merge) {
        L.size[L.ndim - 1] *= shape[d];
        for (int k = 0; k < N; ++k) L.stride[k][L.ndim - 1] = (*strides[k])[d];
        continue;
      }
    }
    L.size[L.ndim] = shape[d];
    for (int k = 0; k < N; ++k) L.stride[k][L.ndim] = (*strides[k])[d];
    ++L.ndim;
  }
  if (L.ndim == 0) {  // a single element
    L.ndim = 1;
    L.size[0] = 1;
  }
  return L;
}

/// Calls row(off, inner_stride, len) for each run along the innermost dim covering the linear
/// indices [begin, end); off[k] is the element offset of operand k at the run's start.
template <int N, typename F>
void for_each_row(const Loop<N>& L, int64_t begin, int64_t end, const F& row) {
  if (begin >= end) return;
  int nd = L.ndim;
  int64_t idx[kMaxDims];
  int64_t off[N] = {};
  int64_t rem = begin;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rem % L.size[d];
    rem /= L.size[d];
    for (int k = 0; k < N; ++k) off[k] += idx[d] * L.stride[k][d];
  }
  int64_t inner[N];
  for (int k = 0; k < N; ++k) inner[k] = L.stride[k][nd - 1];
  int64_t pos = begin;
  while (pos < end) {
    int64_t len = L.size[nd - 1] - idx[nd - 1];
    if (len > end - pos) len = end - pos;
    row(off, inner, len);
    pos += len;
    if (pos >= end) break;
    // Advance: finish the row, then carry into outer dims.
    for (int k = 0; k < N; ++k) off[k] += len * inner[k];
    idx[nd - 1] += len;
    for (int d = nd - 1; d > 0 && idx[d] == L.size[d]; --d) {
      for (int k = 0; k < N; ++k) off[k] += L.stride[k][d - 1] - L.size[d] * L.stride[k][d];
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

/// for_each_row over all elements, split across threads when large.
template <int N, typename F>
void parallel_rows(const Loop<N>& L, const F& row) {
  parallel_for(0, L.numel, kGrainSize, [&](int64_t b, int64_t e) { for_each_row(L, b, e, row); });
}

}  // namespace nabla::cpu
