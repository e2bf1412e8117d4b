// Keras-style progress lines (see progbar.h).
#include "keras/progbar.h"

#include <unistd.h>

#include <cmath>
#include <set>

namespace nabla::keras::detail {
namespace {
std::string format_value(double v) {
  char buf[64];
  // Keras: 4 decimals, scientific notation for very small or large magnitudes.
  double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e4))
    std::snprintf(buf, sizeof buf, "%.4e", v);
  else
    std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}
std::string format_time(double secs) {
  char buf[64];
  if (secs >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", int(secs) / 3600, int(secs) % 3600 / 60, int(secs) % 60);
  else if (secs >= 60)
    std::snprintf(buf, sizeof buf, "%d:%02d", int(secs) / 60, int(secs) % 60);
  else
    std::snprintf(buf, sizeof buf, "%.0fs", secs);
  return buf;
}
std::string per_step(double secs, int64_t steps) {
  char buf[64];
  double t = steps > 0 ? secs / double(steps) : 0;
  if (t >= 1)
    std::snprintf(buf, sizeof buf, "%.0fs/step", t);
  else if (t >= 1e-3)
    std::snprintf(buf, sizeof buf, "%.0fms/step", t * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0fus/step", t * 1e6);
  return buf;
}
}  // namespace

std::string format_logs(const Logs& logs, const std::vector<std::string>& order) {
  std::string s;
  std::set<std::string> done;
  auto add = [&](const std::string& k) {
    auto it = logs.find(k);
    if (it == logs.end() || !done.insert(k).second) return;
    s += (s.empty() ? "" : " - ") + k + ": " + format_value(it->second);
  };
  for (const auto& k : order) add(k);
  for (const auto& k : order) add("val_" + k);
  for (const auto& [k, v] : logs) add(k);
  return s;
}

Progbar::Progbar(int64_t target, int verbose, std::FILE* out)
    : target_(target),
      verbose_(verbose),
      dynamic_(verbose == 1 && ::isatty(::fileno(out))),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

std::string Progbar::line(int64_t current, const Logs& logs, const std::vector<std::string>& order,
                          bool final) const {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string s;
  if (target_ > 0) {
    std::string t = std::to_string(target_), c = std::to_string(current);
    s = std::string(t.size() - std::min(t.size(), c.size()), ' ') + c + "/" + t;
  } else {
    s = std::to_string(current) + "/Unknown";
  }
  if (dynamic_ && target_ > 0) {
    constexpr int kWidth = 30;
    int filled = int(kWidth * std::min(current, target_) / target_);
    std::string bar(filled, '=');
    if (filled < kWidth) {
      if (filled > 0) bar.back() = '>';
      bar.append(kWidth - filled, '.');
    }
    s += " [" + bar + "]";
  }
  if (final || !dynamic_) {
    s += " - " + format_time(secs) + " " + per_step(secs, current);
  } else {
    double eta = current > 0 && target_ > 0 ? secs * double(target_ - current) / double(current) : 0;
    s += " - ETA: " + format_time(eta);
  }
  std::string l = format_logs(logs, order);
  if (!l.empty()) s += " - " + l;
  return s;
}

void Progbar::update(int64_t current, const Logs& logs, const std::vector<std::string>& order) {
  current_ = current;
  if (!dynamic_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(50) && current != target_) return;
  last_ = now;
  std::fprintf(out_, "\r%s\033[K", line(current, logs, order, false).c_str());
  std::fflush(out_);
}

void Progbar::finish(const Logs& logs, const std::vector<std::string>& order) {
  if (verbose_ == 0) return;
  std::fprintf(out_, "%s%s%s\n", dynamic_ ? "\r" : "", line(current_, logs, order, true).c_str(),
               dynamic_ ? "\033[K" : "");
  std::fflush(out_);
}

}  // namespace nabla::keras::detail
