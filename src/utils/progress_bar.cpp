#include "nabla/utils/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace nabla::utils {

ProgressBar::ProgressBar(int64_t total, std::string label, bool enabled)
    : total_(total > 0 ? total : 1),
      label_(std::move(label)),
      active_(enabled && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(int64_t steps, const std::string& suffix) {
  current_ += steps;
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  if (current_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(suffix);
}

void ProgressBar::draw(const std::string& suffix) {
  constexpr int kWidth = 30;
  int64_t done = current_ > total_ ? total_ : current_;
  int filled = static_cast<int>(kWidth * done / total_);
  std::string bar(filled, '=');
  if (filled < kWidth) bar += '>', bar.append(kWidth - filled - 1, '.');
  double secs = elapsed();
  double eta = done > 0 ? secs * static_cast<double>(total_ - done) / static_cast<double>(done) : 0;
  std::fprintf(stderr, "\r%s%s%lld/%lld [%s] %.0fs ETA %.0fs %s\033[K", label_.c_str(),
               label_.empty() ? "" : " ", static_cast<long long>(done), static_cast<long long>(total_),
               bar.c_str(), secs, eta, suffix.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!active_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  active_ = false;
}

}  // namespace nabla::utils
