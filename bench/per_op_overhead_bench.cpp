// Per-op overhead: `a + b` on 1-element tensors, and forward+backward of a tiny 3-layer MLP
// (batch 1, 8-16-16-4, ReLU, mean squared output), nabla against libtorch's C++ API.
// Both sides run the same ops in the same order; gradients are dropped (set undefined) each step,
// as zero_grad(set_to_none=true) does.
#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "nabla/nabla.h"

namespace {

constexpr int64_t kIn = 8, kHidden = 16, kOut = 4, kBatch = 1;

void nabla_add_1elem(benchmark::State& state) {
  bench::use_nabla_threads(static_cast<int>(state.range(0)));
  auto a = nabla::ones({1}), b = nabla::ones({1});
  for (auto _ : state) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.raw_data());
  }
}

void torch_add_1elem(benchmark::State& state) {
  bench::use_torch_threads(static_cast<int>(state.range(0)));
  auto a = torch::ones({1}), b = torch::ones({1});
  for (auto _ : state) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.data_ptr());
  }
}

void nabla_mlp_fwd_bwd(benchmark::State& state) {
  bench::use_nabla_threads(static_cast<int>(state.range(0)));
  nabla::manual_seed(0);
  std::vector<nabla::Tensor> params = {
      nabla::randn({kHidden, kIn}) * 0.3, nabla::zeros({kHidden}), nabla::randn({kHidden, kHidden}) * 0.3,
      nabla::zeros({kHidden}),            nabla::randn({kOut, kHidden}) * 0.3, nabla::zeros({kOut})};
  for (auto& p : params) p.set_requires_grad(true);
  auto x = nabla::randn({kBatch, kIn});
  for (auto _ : state) {
    auto h = nabla::linear(x, params[0], params[1]).relu();
    h = nabla::linear(h, params[2], params[3]).relu();
    auto loss = nabla::linear(h, params[4], params[5]).pow(2).mean();
    loss.backward();
    benchmark::DoNotOptimize(params[0].grad().raw_data());
    for (auto& p : params) p.set_grad({});
  }
}

void torch_mlp_fwd_bwd(benchmark::State& state) {
  bench::use_torch_threads(static_cast<int>(state.range(0)));
  torch::manual_seed(0);
  std::vector<torch::Tensor> params = {
      torch::randn({kHidden, kIn}) * 0.3, torch::zeros({kHidden}), torch::randn({kHidden, kHidden}) * 0.3,
      torch::zeros({kHidden}),            torch::randn({kOut, kHidden}) * 0.3, torch::zeros({kOut})};
  for (auto& p : params) p.set_requires_grad(true);
  auto x = torch::randn({kBatch, kIn});
  for (auto _ : state) {
    auto h = torch::linear(x, params[0], params[1]).relu();
    h = torch::linear(h, params[2], params[3]).relu();
    auto loss = torch::linear(h, params[4], params[5]).pow(2).mean();
    loss.backward();
    benchmark::DoNotOptimize(params[0].grad().data_ptr());
    for (auto& p : params) p.mutable_grad().reset();
  }
}

void register_all() {
  struct Case {
    const char* name;
    void (*fn)(benchmark::State&);
  };
  for (const Case& c : {Case{"add_1elem/nabla", nabla_add_1elem}, Case{"add_1elem/torch", torch_add_1elem},
                        Case{"mlp_8_16_16_4_fwd_bwd/nabla", nabla_mlp_fwd_bwd},
                        Case{"mlp_8_16_16_4_fwd_bwd/torch", torch_mlp_fwd_bwd}})
    benchmark::RegisterBenchmark(c.name, c.fn)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
}

const int registered = (register_all(), 0);

}  // namespace

NABLA_BENCH_MAIN()
