// Shared by the data tests: small datasets whose examples encode their index,
// and a watchdog.
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "nabla/creation.h"
#include "nabla/data/dataset.h"
#include "nabla/error.h"

namespace data_test {

/// Example i: data = [i, i] (float32), target = i (int64). Optionally throws at
/// one index, or sleeps a little (varying with i) to shuffle the workers'
/// finishing order.
struct IndexDataset : nabla::data::Dataset {
  int64_t n = 0;
  int64_t throw_at = -1;
  bool jitter = false;
  explicit IndexDataset(int64_t n_) : n(n_) {}
  int64_t size() const override { return n; }
  nabla::data::Example get(int64_t i) const override {
    NABLA_CHECK(i >= 0 && i < n, "IndexDataset: index ", i, " out of range");
    if (i == throw_at) throw nabla::Error("IndexDataset: bad example " + std::to_string(i));
    if (jitter) std::this_thread::sleep_for(std::chrono::microseconds((i * 7919) % 5 * 150));
    return {nabla::full({2}, static_cast<double>(i)), nabla::full({}, i, nabla::kInt64)};
  }
};

/// Runs fn on another thread; if it takes longer than `seconds`, the test
/// binary exits with a message instead of hanging the suite.
template <typename F>
void run_with_timeout(F fn, double seconds, const char* what) {
  auto fut = std::async(std::launch::async, std::move(fn));
  if (fut.wait_for(std::chrono::duration<double>(seconds)) != std::future_status::ready) {
    std::fprintf(stderr, "TIMEOUT: %s did not finish in %.0f s (hang)\n", what, seconds);
    std::fflush(stderr);
    std::_Exit(1);
  }
  fut.get();  // rethrows a failure inside fn
}

/// Threads of this process (Linux /proc).
inline int thread_count() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  return -1;
}

}  // namespace data_test
