// Internal: Keras-like progress output for fit/evaluate/predict.
//   verbose 1 on a terminal: "1875/1875 [==============================] - 2s 1ms/step - loss: 0.5123 - ..."
//   redrawn in place; verbose 2 (or 1 when stdout is not a terminal): that line once at the end.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "nabla/keras/callbacks.h"

namespace nabla::keras::detail {

/// "loss: 0.5123 - accuracy: 0.8200" in `order`, then the other keys sorted.
std::string format_logs(const Logs& logs, const std::vector<std::string>& order);

class Progbar {
 public:
  /// target: steps in the epoch (-1 unknown).
  Progbar(int64_t target, int verbose, std::FILE* out = stdout);
  /// After step `current` (1-based).
  void update(int64_t current, const Logs& logs, const std::vector<std::string>& order);
  /// The final line (with the epoch's complete logs).
  void finish(const Logs& logs, const std::vector<std::string>& order);

 private:
  std::string line(int64_t current, const Logs& logs, const std::vector<std::string>& order,
                   bool final) const;
  int64_t target_, current_ = 0;
  int verbose_;
  bool dynamic_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace nabla::keras::detail
