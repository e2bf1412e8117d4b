// Internal: GEMM on the CPU for matmul, linear and conv.
//
// Floating GEMMs go to OpenBLAS, but never through OpenBLAS's own threading: its threaded driver
// splits K into blocks differently from its serial driver (OpenBLAS 0.3.21: [32,784]x[784,64]
// differs in the last bit between 1 and 2 threads), so results would depend on the thread count.
// Instead the output is cut into tiles chosen from the sizes alone, each tile is one
// single-threaded BLAS call, and the tiles run across nabla's threads.
#pragma once
#include <algorithm>
#include <cstdint>

#include "backend/cpu/parallel.h"

namespace nabla::cpu {

/// How BLAS reads a row-major R x C operand: transposed or not, with leading dimension ld.
struct BlasMat {
  bool ok = false;     // false: the strides fit neither layout, copy to contiguous first
  bool trans = false;  // stored as the C x R matrix (a transposed view)
  int64_t ld = 1;
};
/// Layout of an R x C matrix whose element (i, j) lives at i * rs + j * cs.
BlasMat blas_layout(int64_t R, int64_t C, int64_t rs, int64_t cs);

/// C[M, N] (row-major, leading dim ldc) = op(A)[M, K] @ op(B)[K, N] + beta * C.
struct GemmShape {
  int64_t M = 0, N = 0, K = 0;
  BlasMat a, b;
  int64_t ldc = 0;
};

/// One single-threaded BLAS call (float or double).
template <typename T>
void blas_gemm(const GemmShape& s, int64_t M, int64_t N, const T* A, const T* B, T beta, T* C);

/// Output tiles per GEMM (a function of the sizes only) and the tile extent along the split dim.
struct Tiling {
  bool split_n = true;  // split columns (each tile re-reads all of A) or rows (all of B)
  int64_t count = 1;
  int64_t extent = 0;
};
Tiling gemm_tiling(int64_t M, int64_t N, int64_t K);

/// Multiply-adds below which a batch of GEMMs stays on the calling thread.
constexpr int64_t kGemmParallelWork = int64_t{1} << 19;

/// Runs `batch` GEMMs of one shape; ptrs(i, A, B, C) sets problem i's operand pointers.
/// Thread-count independent: see the file comment.
template <typename T, typename Ptrs>
void gemm_batched(const GemmShape& s, int64_t batch, T beta, const Ptrs& ptrs) {
  if (batch <= 0 || s.M <= 0 || s.N <= 0) return;
  Tiling t = gemm_tiling(s.M, s.N, s.K);
  auto run = [&](int64_t item) {
    const T *A, *B;
    T* C;
    ptrs(item / t.count, A, B, C);
    int64_t lo = (item % t.count) * t.extent;
    if (t.split_n) {
      int64_t n = std::min(t.extent, s.N - lo);
      blas_gemm<T>(s, s.M, n, A, B + (s.b.trans ? lo * s.b.ld : lo), beta, C + lo);
    } else {
      int64_t m = std::min(t.extent, s.M - lo);
      blas_gemm<T>(s, m, s.N, A + (s.a.trans ? lo : lo * s.a.ld), B, beta, C + lo * s.ldc);
    }
  };
  int64_t items = batch * t.count;
  double work = static_cast<double>(s.M) * s.N * s.K * batch;
  if (items == 1 || work < 2.0 * kGemmParallelWork) {
    for (int64_t i = 0; i < items; ++i) run(i);
    return;
  }
  parallel_for(0, items, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) run(i);
  });
}

template <typename T>
void gemm(const GemmShape& s, const T* A, const T* B, T beta, T* C) {
  gemm_batched<T>(s, 1, beta, [&](int64_t, const T*& a, const T*& b, T*& c) {
    a = A;
    b = B;
    c = C;
  });
}

/// Plain loops for the dtypes BLAS lacks (integers): C[i*ldc + j] (+)= sum_k A(i, k) * B(k, j),
/// with A(i, k) at i * ars + k * acs and B likewise.
template <typename T>
void gemm_loop(int64_t M, int64_t N, int64_t K, const T* A, int64_t ars, int64_t acs, const T* B, int64_t brs,
               int64_t bcs, T* C, int64_t ldc, bool accumulate) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T acc = accumulate ? C[i * ldc + j] : T(0);
      for (int64_t k = 0; k < K; ++k) acc += A[i * ars + k * acs] * B[k * brs + j * bcs];
      C[i * ldc + j] = acc;
    }
}

}  // namespace nabla::cpu
