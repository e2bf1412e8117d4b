// The harness shared by the training benchmarks (train_nabla.cpp, train_libtorch.cpp; the PyTorch
// script train_torch.py mirrors it): command line, Fashion-MNIST in memory, the epoch's batch order,
// timing, peak RSS and the loaded BLAS, and one `RESULT {json}` line per measurement that
// bench/train_table.py turns into the ratio table. It depends on neither framework, so each side's
// binary links only its own framework and its peak RSS is its own.
//
//   ./train_nabla --model mlp --threads 1 --reps 5      one epoch per rep, median samples/s
//   ./train_nabla --model cnn --threads 2 --limit 6400  epochs cut to 6400 samples (the CNN is slow)
//   ./train_nabla --infer --calls 10000                 batch-1 MLP forward latency, median
#pragma once
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace harness {

struct Args {
  std::string model = "mlp";  // mlp | cnn
  int threads = 1;
  int reps = 5;        // timed epochs
  int64_t limit = 0;   // samples per timed epoch (0: the whole training set)
  int warmup = 50;     // untimed batches first (allocator caches, thread pool start)
  bool infer = false;  // batch-1 latency of the MLP instead of training
  int calls = 10000;   // inference calls
  uint64_t seed = 1;

  int batch() const { return model == "cnn" ? 64 : 32; }

  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
        return argv[++i];
      };
      if (a == "--model")
        model = next();
      else if (a == "--threads")
        threads = std::stoi(next());
      else if (a == "--reps")
        reps = std::stoi(next());
      else if (a == "--limit")
        limit = std::stoll(next());
      else if (a == "--warmup")
        warmup = std::stoi(next());
      else if (a == "--infer")
        infer = true;
      else if (a == "--calls")
        calls = std::stoi(next());
      else if (a == "--seed")
        seed = std::stoull(next());
      else
        throw std::runtime_error("unknown argument " + a);
    }
    if (model != "mlp" && model != "cnn") throw std::runtime_error("--model must be mlp or cnn");
  }
};

/// The Fashion-MNIST training set as the IDX files hold it: 60000 x 784 bytes and 60000 labels.
struct Data {
  std::vector<uint8_t> images, labels;
  int64_t n = 0;
};

inline std::vector<uint8_t> read_gz(const std::string& path, size_t header) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path + " (Debian package dataset-fashion-mnist)");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (int got; (got = gzread(f, buf, sizeof buf)) > 0;) out.insert(out.end(), buf, buf + got);
  gzclose(f);
  if (out.size() < header) throw std::runtime_error(path + ": truncated IDX file");
  out.erase(out.begin(), out.begin() + header);
  return out;
}

inline Data load_fashion_mnist() {
  const std::string root = "/usr/share/datasets/fashion-mnist/";
  Data d;
  d.images = read_gz(root + "train-images-idx3-ubyte.gz", 16);
  d.labels = read_gz(root + "train-labels-idx1-ubyte.gz", 8);
  d.n = static_cast<int64_t>(d.labels.size());
  if (d.images.size() != static_cast<size_t>(d.n) * 784)
    throw std::runtime_error("Fashion-MNIST: size mismatch");
  return d;
}

/// A fresh shuffled order per epoch (the same on both C++ sides), cut into batch index lists.
inline std::vector<std::vector<int64_t>> epoch_batches(int64_t n, int64_t limit, int batch, uint64_t seed) {
  std::vector<int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(perm.begin(), perm.end(), rng);
  int64_t use = limit > 0 ? std::min(limit, n) : n;
  std::vector<std::vector<int64_t>> out;
  for (int64_t b = 0; b + batch <= use; b += batch)
    out.emplace_back(perm.begin() + b, perm.begin() + b + batch);
  return out;
}

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// CPU seconds used by this process so far (all threads). On a shared, loaded machine the
/// samples per CPU-second of a 1-thread run are steadier than wall-clock rates.
inline double cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

/// Peak resident set of this process so far, in MiB.
inline double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

/// The BLAS / OpenMP / oneDNN / libxsmm shared objects mapped into this process.
inline std::string loaded_math_libs() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  for (std::string line; std::getline(maps, line);) {
    size_t at = line.find('/');
    if (at == std::string::npos) continue;
    std::string path = line.substr(at);
    std::string name = path.substr(path.rfind('/') + 1);
    for (const char* key : {"blas", "lapack", "mkl", "dnnl", "xsmm", "gomp", "iomp", "sleef"})
      if (name.find(key) != std::string::npos) libs.insert(path);
  }
  std::string out;
  for (const auto& l : libs) out += (out.empty() ? "" : " ") + l;
  return out;
}

inline std::string json_list(const std::vector<double>& v) {
  std::string s = "[";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.6g", i ? ", " : "", v[i]);
    s += buf;
  }
  return s + "]";
}

/// Times `reps` epochs of `step(batch_indices)` over shuffled batches; prints the RESULT line.
/// `step` runs one optimisation step on the batch (gather included: that is part of the loop).
inline void run_training(const char* impl, const Args& a, int64_t n, const std::string& blas,
                         const std::function<void(const std::vector<int64_t>&)>& step) {
  auto warm = epoch_batches(n, int64_t(a.warmup) * a.batch(), a.batch(), a.seed + 1000);
  for (const auto& b : warm) step(b);
  std::vector<double> rates, cpu_rates;
  for (int r = 0; r < a.reps; ++r) {
    auto batches = epoch_batches(n, a.limit, a.batch(), a.seed + r);  // order made outside the timing
    double t0 = now_s(), c0 = cpu_s();
    for (const auto& b : batches) step(b);
    double dt = now_s() - t0, dc = cpu_s() - c0;
    rates.push_back(double(batches.size()) * a.batch() / dt);
    cpu_rates.push_back(double(batches.size()) * a.batch() / dc);
  }
  std::printf(
      "RESULT {\"impl\": \"%s\", \"kind\": \"train\", \"model\": \"%s\", \"threads\": %d, "
      "\"batch\": %d, \"samples_per_epoch\": %lld, \"median\": %.6g, \"unit\": \"samples/s\", "
      "\"reps\": %s, \"per_cpu_s\": %s, \"peak_rss_mib\": %.1f, \"blas\": \"%s\"}\n",
      impl, a.model.c_str(), a.threads, a.batch(),
      static_cast<long long>(epoch_batches(n, a.limit, a.batch(), 0).size() * a.batch()), median(rates),
      json_list(rates).c_str(), json_list(cpu_rates).c_str(), peak_rss_mib(), blas.c_str());
  std::fflush(stdout);
}

/// Times `calls` single calls of `call()` one by one; prints the median latency in microseconds.
inline void run_latency(const char* impl, const Args& a, const std::string& blas,
                        const std::function<void()>& call) {
  for (int i = 0; i < 1000; ++i) call();
  std::vector<double> us(a.calls);
  for (int i = 0; i < a.calls; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    call();
    us[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
  std::vector<double> sorted = us;
  std::sort(sorted.begin(), sorted.end());
  std::printf(
      "RESULT {\"impl\": \"%s\", \"kind\": \"infer\", \"model\": \"mlp\", \"threads\": %d, \"batch\": 1, "
      "\"median\": %.6g, \"unit\": \"us\", \"p10\": %.6g, \"p90\": %.6g, \"peak_rss_mib\": %.1f, "
      "\"blas\": \"%s\"}\n",
      impl, a.threads, median(us), sorted[a.calls / 10], sorted[a.calls * 9 / 10], peak_rss_mib(),
      blas.c_str());
  std::fflush(stdout);
}

/// main() body shared by both C++ sides: argument errors become a message and exit status 2.
inline int guarded_main(int argc, char** argv, const std::function<void(const Args&)>& body) {
  try {
    Args a(argc, argv);
    body(a);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 2;
  }
}

}  // namespace harness
