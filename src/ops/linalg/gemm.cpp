// BLAS calls behind gemm.h: layout checks, the fixed tiling and single-threaded OpenBLAS calls.
#include "ops/linalg/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>

namespace nabla::cpu {

BlasMat blas_layout(int64_t R, int64_t C, int64_t rs, int64_t cs) {
  // Size-1 dims may carry any stride; BLAS only needs ld >= max(1, row length).
  BlasMat m;
  int64_t c1 = std::max<int64_t>(1, C), r1 = std::max<int64_t>(1, R);
  if ((cs == 1 || C <= 1) && (R <= 1 || rs >= c1)) {
    m.ok = true;
    m.ld = R <= 1 ? c1 : rs;
  } else if ((rs == 1 || R <= 1) && (C <= 1 || cs >= r1)) {
    m.ok = true;
    m.trans = true;
    m.ld = C <= 1 ? r1 : cs;
  }
  return m;
}

namespace {

// Tiles along columns (split_n) or rows of the output.
Tiling tile_along(bool split_n, int64_t M, int64_t N, int64_t K) {
  // Up to 16 tiles of ~kGemmParallelWork multiply-adds, 32 wide or more. Tiles past ~1M
  // multiply-adds are made >= 128 wide: there the re-packing costs more than the split gains
  // on one thread (measured, 1 thread: 512^3 takes 1.4 ms whole, 2.3 ms in 32-wide tiles and
  // 1.6 ms in 128-wide ones; the seed MLP GEMMs get faster in 32-wide tiles, 27 -> 16 us).
  Tiling t;
  t.split_n = split_n;
  int64_t dim = t.split_n ? N : M, other = t.split_n ? M : N;
  t.extent = dim;
  double work = static_cast<double>(M) * N * K;
  int64_t want = static_cast<int64_t>(std::min(16.0, work / kGemmParallelWork));
  if (want <= 1) return t;
  int64_t ext = ((dim + want - 1) / want + 31) / 32 * 32;
  const int64_t half = ((dim + 1) / 2 + 31) / 32 * 32;  // two tiles
  if (static_cast<double>(other) * ext * K > 2.0 * kGemmParallelWork) {
    ext = std::max<int64_t>(ext, 128);
    // ...but a product 128-255 wide along the split dim is still cut in two (64-128 wide), else
    // it would run on one thread: the seed CNN's fc1 forward, [64, 3136] @ [3136, 128], 1 thread:
    // whole 574-588 us, two 64-wide tiles 595-605; 2 threads: 327-330 (bench in the note).
    if (ext >= dim && dim >= 128) ext = half;
  }
  // Large products (> ~100M multiply-adds) are cut in halves only: each extra tile re-packs the
  // whole other operand (1024^3 on 1 thread: 8 tiles 150 GFLOP/s, whole 188; see the note).
  if (work > 1e8) ext = std::max<int64_t>(ext, half);
  if (ext >= dim) return t;
  t.extent = ext;
  t.count = (dim + ext - 1) / ext;
  return t;
}

}  // namespace

Tiling gemm_tiling(int64_t M, int64_t N, int64_t K) {
  // Splitting the larger of M and N makes the operand every tile re-reads (re-packs) the smaller
  // one.
  Tiling t = tile_along(N >= M, M, N, K);
  // A weight gradient ([out, batch] @ [batch, in], K the smallest) is cut into row tiles instead,
  // when that gives at least half as many: its rows are the weight's rows, which the forward
  // GEMM ([batch, in] @ [in, out]) cuts into the same tiles (same work, same extent rule), and
  // the optimizer step splits at row boundaries too (parallel_for_rows). So in a team
  // (backend/cpu/team.h) one thread computes, differentiates and updates the same rows of a
  // weight every step, and they stay in its core's cache. Re-reading [batch, in] per tile costs
  // ~1/out of the work. Seed MLP fc1 ([64, 32] @ [32, 784]): 3 column tiles of 288 before, 2:1
  // on 2 threads; now 2 tiles of 32 rows.
  if (K < M && K < N) {
    Tiling r = tile_along(false, M, N, K);
    if (r.count >= 2 && 2 * r.count >= t.count) return r;
  }
  return t;
}

namespace {
// OpenBLAS (OpenMP build) uses omp_get_max_threads() threads unless called inside a parallel
// region; setting the calling thread's OpenMP default to 1 for the call keeps it serial.
struct SerialBlas {
  int prev;
  SerialBlas() : prev(omp_in_parallel() ? 1 : omp_get_max_threads()) {
    if (prev != 1) omp_set_num_threads(1);
  }
  ~SerialBlas() {
    if (prev != 1) omp_set_num_threads(prev);
  }
};
CBLAS_TRANSPOSE tr(const BlasMat& m) { return m.trans ? CblasTrans : CblasNoTrans; }
}  // namespace

template <>
void blas_gemm<float>(const GemmShape& s, int64_t M, int64_t N, const float* A, const float* B, float beta,
                      float* C) {
  SerialBlas serial;
  cblas_sgemm(CblasRowMajor, tr(s.a), tr(s.b), M, N, s.K, 1.0f, A, s.a.ld, B, s.b.ld, beta, C, s.ldc);
}

template <>
void blas_gemm<double>(const GemmShape& s, int64_t M, int64_t N, const double* A, const double* B,
                       double beta, double* C) {
  SerialBlas serial;
  cblas_dgemm(CblasRowMajor, tr(s.a), tr(s.b), M, N, s.K, 1.0, A, s.a.ld, B, s.b.ld, beta, C, s.ldc);
}

}  // namespace nabla::cpu
