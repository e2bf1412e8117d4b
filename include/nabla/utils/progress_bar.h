// ProgressBar: a Keras-like bar for long loops, drawn only when stderr is a terminal.
//   nabla::utils::ProgressBar bar(loader.size(), "epoch 1/10");
//   for (...) { ...; bar.update(1, "loss: " + std::to_string(loss)); }
//   bar.finish();   // leaves nothing behind on a terminal; prints nothing when redirected
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace nabla::utils {

class ProgressBar {
 public:
  /// `total` steps; `label` is shown before the bar. Quiet when `enabled` is false or stderr is
  /// not a terminal (logs and CI stay clean).
  explicit ProgressBar(int64_t total, std::string label = "", bool enabled = true);
  /// Advances by `steps` and redraws at most ~10 times a second; `suffix` is shown after the bar.
  void update(int64_t steps = 1, const std::string& suffix = "");
  /// Clears the bar line.
  void finish();
  int64_t current() const { return current_; }
  /// Seconds since construction.
  double elapsed() const;

 private:
  void draw(const std::string& suffix);
  int64_t total_;
  int64_t current_ = 0;
  std::string label_;
  bool active_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace nabla::utils
