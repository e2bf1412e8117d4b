// Deployment: a bundle through `nabla run`'s engine (nabla::load_model + LoadedModel, the inference
// library's code) against libtorch loading and running the same model as TorchScript
// (torch::jit::load + forward), in one process, one thread each: load time (median of --loads
// loads) and batch-1 latency (median and p90 of --calls calls, after a warm-up).
//   deploy_bench export DIR                 seed MLP and CNN bundles + x.npy/y.npy references
//   /usr/bin/python3 bench/deploy_torchscript.py DIR     DIR/{mlp,cnn}.pt from the bundles' weights
//   deploy_bench compare DIR [--calls 10000] [--loads 7]
// bench/run_all.sh runs the three (BENCH_ONLY=deploy runs only them).
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "../examples/common/seed_models.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/deploy.h"
#include "nabla/io/npy.h"
#include "nabla/runtime.h"

using Clock = std::chrono::steady_clock;

namespace {

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

void export_all(const std::string& dir) {
  nabla::manual_seed(0);
  SimpleNet mlp;
  auto cnn = make_seed_cnn();
  auto write = [&](nabla::nn::Module& m, const nabla::Tensor& x, const std::string& name) {
    m.eval();
    nabla::export_model(m, {x}, dir + "/" + name);
    nabla::NoGradGuard g;
    nabla::io::save_npy(x, dir + "/" + name + ".x.npy");
    nabla::io::save_npy(m.forward(x), dir + "/" + name + ".y.npy");
  };
  write(mlp, nabla::randn({4, 784}), "mlp");
  write(*cnn, nabla::randn({4, 1, 28, 28}), "cnn");
  std::cout << "bundles in " << dir << "\n";
}

void compare(const std::string& dir, const std::string& name, int calls, int loads) {
  const std::string bundle = dir + "/" + name, pt = dir + "/" + name + ".pt";
  std::vector<double> nl, tl;
  nabla::LoadedModel m;
  torch::jit::Module tm;
  for (int k = 0; k < loads; ++k) {  // interleaved, so both sides see the same machine state
    auto t0 = Clock::now();
    m = nabla::load_model(bundle);
    nl.push_back(us_since(t0) / 1000);
    t0 = Clock::now();
    tm = torch::jit::load(pt);
    tm.eval();
    tl.push_back(us_since(t0) / 1000);
  }
  std::vector<int64_t> shape = m.signature().inputs[0].shape;
  shape[0] = 1;
  nabla::Tensor x = nabla::randn(nabla::Shape(shape));
  torch::Tensor tx = torch::from_blob(x.data_ptr<float>(), shape, torch::kFloat32).clone();
  torch::InferenceMode inference;
  std::vector<torch::jit::IValue> targs{tx};
  // Same model, same weights: the outputs must agree before the timings mean anything.
  nabla::Tensor y = m(x);
  torch::Tensor ty = tm.forward(targs).toTensor().contiguous();
  double diff = 0;
  for (int64_t i = 0; i < y.numel(); ++i)
    diff = std::max(diff, std::abs(static_cast<double>(y.data_ptr<float>()[i] - ty.data_ptr<float>()[i])));
  std::vector<double> nt(calls), tt(calls);
  for (int k = 0; k < 200; ++k) {
    m(x);
    tm.forward(targs);
  }
  for (int k = 0; k < calls; ++k) {
    auto t0 = Clock::now();
    nabla::Tensor out = m(x);
    nt[k] = us_since(t0);
  }
  for (int k = 0; k < calls; ++k) {
    auto t0 = Clock::now();
    torch::Tensor out = tm.forward(targs).toTensor();
    tt[k] = us_since(t0);
  }
  std::printf("%-4s load ms   nabla %8.3f  libtorch %8.3f  ratio %.2fx   (median of %d)\n", name.c_str(),
              pct(nl, 0.5), pct(tl, 0.5), pct(tl, 0.5) / pct(nl, 0.5), loads);
  std::printf(
      "%-4s batch-1 us nabla %8.2f  libtorch %8.2f  ratio %.2fx   (median of %d; p90 %.2f / %.2f)"
      "  max|diff| %.1e\n",
      name.c_str(), pct(nt, 0.5), pct(tt, 0.5), pct(tt, 0.5) / pct(nt, 0.5), calls, pct(nt, 0.9),
      pct(tt, 0.9), diff);
  std::printf("RESULT deploy model=%s nabla_load_ms=%.4f torch_load_ms=%.4f nabla_us=%.3f torch_us=%.3f\n",
              name.c_str(), pct(nl, 0.5), pct(tl, 0.5), pct(nt, 0.5), pct(tt, 0.5));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: deploy_bench export DIR | deploy_bench compare DIR [--calls N] [--loads N]\n";
    return 2;
  }
  const std::string cmd = argv[1], dir = argv[2];
  int calls = 10000, loads = 7;
  for (int k = 3; k + 1 < argc; k += 2) {
    if (std::string(argv[k]) == "--calls") calls = std::stoi(argv[k + 1]);
    if (std::string(argv[k]) == "--loads") loads = std::stoi(argv[k + 1]);
  }
  nabla::set_num_threads(1);
  at::set_num_threads(1);
  try {
    if (cmd == "export") {
      export_all(dir);
    } else {
      for (const char* name : {"mlp", "cnn"}) compare(dir, name, calls, loads);
    }
  } catch (const std::exception& e) {
    std::cerr << "deploy_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
