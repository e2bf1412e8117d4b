// matmul GFLOP/s: nabla::matmul against cblas_sgemm called directly (the same OpenBLAS) and against
// torch::matmul. Shapes: 1024^3, and the 784-64-64-10 MLP at batch 32, forward (x @ W) and the two
// backward products of each layer (dX = dY @ W^T, dW = X^T @ dY) with the transposes as views,
// exactly as they appear in a backward pass.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <string>

#include "bench_util.h"
#include "nabla/nabla.h"

namespace {

struct Shape3 {
  const char* name;
  int64_t m, k, n;
  bool trans_a, trans_b;  // operand stored transposed, used through a .t() view
};

const Shape3 kShapes[] = {
    {"square_1024", 1024, 1024, 1024, false, false},
    {"fwd_32x784_784x64", 32, 784, 64, false, false},
    {"fwd_32x64_64x64", 32, 64, 64, false, false},
    {"fwd_32x64_64x10", 32, 64, 10, false, false},
    {"dX_32x64_64x784T", 32, 64, 784, false, true},
    {"dW_784x32T_32x64", 784, 32, 64, true, false},
    {"dX_32x64_64x64T", 32, 64, 64, false, true},
    {"dW_64x32T_32x64", 64, 32, 64, true, false},
    {"dX_32x10_10x64T", 32, 10, 64, false, true},
    {"dW_64x32T_32x10", 64, 32, 10, true, false},
};

void set_flops(benchmark::State& state, const Shape3& s) {
  state.counters["FLOPS"] =
      benchmark::Counter(2.0 * s.m * s.k * s.n, benchmark::Counter::kIsIterationInvariantRate);
}

// Operands stored as [m, k] / [k, n], or as [k, m] / [n, k] when transposed.
void nabla_mm(benchmark::State& state, Shape3 s) {
  bench::use_nabla_threads(static_cast<int>(state.range(0)));
  nabla::manual_seed(0);
  auto a = s.trans_a ? nabla::randn({s.k, s.m}).t() : nabla::randn({s.m, s.k});
  auto b = s.trans_b ? nabla::randn({s.n, s.k}).t() : nabla::randn({s.k, s.n});
  for (auto _ : state) {
    auto c = nabla::matmul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_flops(state, s);
}

void raw_sgemm(benchmark::State& state, Shape3 s) {
  bench::use_raw_threads(static_cast<int>(state.range(0)));
  std::vector<float> a(s.m * s.k, 0.5f), b(s.k * s.n, 0.25f), c(s.m * s.n);
  int lda = s.trans_a ? s.m : s.k, ldb = s.trans_b ? s.k : s.n;
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans, s.trans_b ? CblasTrans : CblasNoTrans, s.m,
                s.n, s.k, 1.f, a.data(), lda, b.data(), ldb, 0.f, c.data(), s.n);
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, s);
}

void torch_mm(benchmark::State& state, Shape3 s) {
  bench::use_torch_threads(static_cast<int>(state.range(0)));
  torch::manual_seed(0);
  auto a = s.trans_a ? torch::randn({s.k, s.m}).t() : torch::randn({s.m, s.k});
  auto b = s.trans_b ? torch::randn({s.n, s.k}).t() : torch::randn({s.k, s.n});
  for (auto _ : state) {
    auto c = torch::matmul(a, b);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  set_flops(state, s);
}

void register_all() {
  for (const Shape3& s : kShapes) {
    std::string base = std::string("matmul_") + s.name;
    benchmark::RegisterBenchmark((base + "/nabla").c_str(), nabla_mm, s)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
    benchmark::RegisterBenchmark((base + "/blas").c_str(), raw_sgemm, s)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
    benchmark::RegisterBenchmark((base + "/torch").c_str(), torch_mm, s)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
  }
}

const int registered = (register_all(), 0);

}  // namespace

NABLA_BENCH_MAIN()
