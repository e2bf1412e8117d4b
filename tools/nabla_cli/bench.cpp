// `nabla bench DIR [--batch N] [--iters N] [--warmup N]`: load time, latency and throughput of a
// bundle on random inputs (every symbolic size = the batch), with the same engine as `nabla run`.
#include <algorithm>
#include <chrono>
#include <iomanip>

#include "commands.h"
#include "nabla/creation.h"
#include "nabla/deploy/loaded_model.h"

namespace nabla::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

int64_t int_arg(const std::vector<std::string>& args, size_t& k, const char* name) {
  NABLA_CHECK(k + 1 < args.size(), name, " needs a number");
  const std::string& s = args[++k];
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
  }
  NABLA_CHECK(used == s.size() && v > 0, name, " must be a positive integer, got '", s, "'");
  return v;
}

}  // namespace

int bench(const std::vector<std::string>& args, std::ostream& out) {
  std::string dir;
  int64_t batch = 1, iters = 1000, warmup = 20;
  for (size_t k = 0; k < args.size(); ++k) {
    if (args[k] == "--batch")
      batch = int_arg(args, k, "--batch");
    else if (args[k] == "--iters")
      iters = int_arg(args, k, "--iters");
    else if (args[k] == "--warmup")
      warmup = int_arg(args, k, "--warmup");
    else {
      NABLA_CHECK(dir.empty() && !args[k].starts_with("--"), "unexpected argument '", args[k],
                  "' (usage: nabla bench DIR [--batch N] [--iters N] [--warmup N])");
      dir = args[k];
    }
  }
  NABLA_CHECK(!dir.empty(), "missing the bundle directory (usage: nabla bench DIR [--batch N] [--iters N])");
  std::vector<double> loads;
  LoadedModel m;
  for (int k = 0; k < 5; ++k) {
    auto t0 = Clock::now();
    m = load_model(dir);
    loads.push_back(ms_since(t0));
  }
  const Signature& sig = m.signature();
  if (!sig.symbolic_batch) batch = sig.fixed_batch;
  std::vector<Tensor> xs;
  for (const auto& s : sig.inputs) {
    std::vector<int64_t> dims = s.shape;
    for (auto& d : dims) d = d < 0 ? batch : d;
    xs.push_back(is_floating(s.dtype) ? randn(Shape(dims)).to(s.dtype) : zeros(Shape(dims), s.dtype));
  }
  auto t_first = Clock::now();
  m(xs);  // plans this batch size's executor
  const double first_ms = ms_since(t_first);
  for (int64_t k = 0; k < warmup; ++k) m(xs);
  std::vector<double> lat(static_cast<size_t>(iters));
  for (auto& l : lat) {
    auto t0 = Clock::now();
    m(xs);
    l = ms_since(t0) * 1000.0;
  }
  const double med = percentile(lat, 0.5), p90 = percentile(lat, 0.9);
  out << std::fixed << std::setprecision(3);
  out << dir << ": batch " << batch << ", " << iters << " calls\n";
  out << "load        median " << percentile(loads, 0.5) << " ms (5 loads), first call " << first_ms
      << " ms\n";
  out << "latency     median " << med << " us, p90 " << p90 << " us\n";
  out << "throughput  " << std::setprecision(0) << static_cast<double>(batch) / (med * 1e-6)
      << " samples/s\n";
  return 0;
}

}  // namespace nabla::cli
