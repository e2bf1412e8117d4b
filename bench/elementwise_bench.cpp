// Elementwise bandwidth on 16M floats (64 MiB per tensor): nabla add and relu against a plain
// memcpy of the same bytes (split over the same number of threads), with libtorch for reference.
// Bytes counted = bytes read + bytes written: add 3 x 64 MiB, relu and memcpy 2 x 64 MiB.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "bench_util.h"
#include "nabla/nabla.h"

namespace {

constexpr int64_t kN = int64_t{16} << 20;
constexpr int64_t kBytes = kN * static_cast<int64_t>(sizeof(float));

int threads_of(benchmark::State& state) { return static_cast<int>(state.range(0)); }

void memcpy_ref(benchmark::State& state) {
  int nt = threads_of(state);
  bench::use_raw_threads(nt);
  std::vector<float> src(kN, 1.f), dst(kN, 0.f);  // both touched: no page faults in the loop
  for (auto _ : state) {
#pragma omp parallel num_threads(nt)
    {
      int t = omp_get_thread_num(), n = omp_get_num_threads();
      int64_t chunk = (kN + n - 1) / n, b = t * chunk, e = std::min(kN, b + chunk);
      if (b < e) std::memcpy(dst.data() + b, src.data() + b, (e - b) * sizeof(float));
    }
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
}

void nabla_add(benchmark::State& state) {
  bench::use_nabla_threads(threads_of(state));
  auto a = nabla::randn({kN}), b = nabla::randn({kN});
  for (auto _ : state) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * 3 * kBytes);
}

void nabla_relu(benchmark::State& state) {
  bench::use_nabla_threads(threads_of(state));
  auto a = nabla::randn({kN});
  for (auto _ : state) {
    auto c = a.relu();
    benchmark::DoNotOptimize(c.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
}

void torch_add(benchmark::State& state) {
  bench::use_torch_threads(threads_of(state));
  auto a = torch::randn({kN}), b = torch::randn({kN});
  for (auto _ : state) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * 3 * kBytes);
}

// libtorch's CPU allocator returns 64 MiB blocks to the system, so `a + b` pays page faults on
// every call; add_out into a reused tensor shows its kernel alone.
void torch_add_out(benchmark::State& state) {
  bench::use_torch_threads(threads_of(state));
  auto a = torch::randn({kN}), b = torch::randn({kN}), c = torch::empty({kN});
  for (auto _ : state) {
    torch::add_out(c, a, b);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * 3 * kBytes);
}

void torch_relu(benchmark::State& state) {
  bench::use_torch_threads(threads_of(state));
  auto a = torch::randn({kN});
  for (auto _ : state) {
    auto c = torch::relu(a);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
}

void torch_relu_out(benchmark::State& state) {
  bench::use_torch_threads(threads_of(state));
  auto a = torch::randn({kN}), c = torch::empty({kN});
  for (auto _ : state) {
    torch::clamp_min_out(c, a, 0);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
}

void register_all() {
  struct Case {
    const char* name;
    void (*fn)(benchmark::State&);
  };
  // run_all.sh compares every case of this file with the one memcpy measurement.
  for (const Case& c : {Case{"copy_16M/memcpy", memcpy_ref}, Case{"add_16M/nabla", nabla_add},
                        Case{"add_16M/torch", torch_add}, Case{"add_16M/torch_out", torch_add_out},
                        Case{"relu_16M/nabla", nabla_relu},
                        Case{"relu_16M/torch", torch_relu}, Case{"relu_16M/torch_out", torch_relu_out}})
    benchmark::RegisterBenchmark(c.name, c.fn)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
}

const int registered = (register_all(), 0);

}  // namespace

NABLA_BENCH_MAIN()
