#include "nabla/tensorboard/summary_writer.h"

#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "nabla/error.h"
#include "tensorboard/event_file_writer.h"
#include "tensorboard/summary.h"

namespace nabla::tensorboard {
namespace {

// PyTorch's default: runs/Nov26_01-45-00_hostname<comment>.
std::string default_log_dir(const std::string& comment) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%b%d_%H-%M-%S", &tm);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == 0) std::snprintf(host, sizeof host, "localhost");
  return (std::filesystem::path("runs") / (std::string(stamp) + "_" + host + comment)).string();
}

std::string replace_all(std::string s, char from, char to) {
  for (char& c : s)
    if (c == from) c = to;
  return s;
}

}  // namespace

SummaryWriter::SummaryWriter(const std::string& log_dir, SummaryWriterOptions options)
    : log_dir_(log_dir.empty() ? default_log_dir(options.comment) : log_dir), options_(std::move(options)) {
  file_ = std::make_unique<detail::EventFileWriter>(log_dir_, options_.flush_secs, options_.filename_suffix);
}

SummaryWriter::~SummaryWriter() = default;  // each EventFileWriter flushes and closes itself

const std::string& SummaryWriter::file_path() const { return file_->path(); }

void SummaryWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  file_->add_summary(detail::scalar_summary(tag, value), step, detail::now_seconds());
}

void SummaryWriter::add_scalars(const std::string& main_tag, const std::map<std::string, double>& values,
                                int64_t step) {
  double wall_time = detail::now_seconds();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, value] : values) {
    std::string dir =
        (std::filesystem::path(log_dir_) / (replace_all(main_tag, '/', '_') + "_" + key)).string();
    auto& w = scalars_writers_[dir];
    if (!w) w = std::make_unique<detail::EventFileWriter>(dir, options_.flush_secs, options_.filename_suffix);
    w->add_summary(detail::scalar_summary(main_tag, value), step, wall_time);
  }
}

void SummaryWriter::add_histogram(const std::string& tag, const Tensor& values, int64_t step) {
  file_->add_summary(detail::histogram_summary(tag, values), step, detail::now_seconds());
}

void SummaryWriter::add_image(const std::string& tag, const Tensor& img, int64_t step,
                              const std::string& dataformats) {
  NABLA_CHECK(dataformats.size() <= 3, "add_image: '", tag, "': dataformats '", dataformats,
              "' is for a batch; use add_images");
  file_->add_summary(detail::image_summary(tag, detail::to_image8(tag, img, dataformats)), step,
                     detail::now_seconds());
}

void SummaryWriter::add_images(const std::string& tag, const Tensor& imgs, int64_t step,
                               const std::string& dataformats) {
  NABLA_CHECK(dataformats == "NCHW" || dataformats == "NHWC", "add_images: '", tag,
              "': dataformats must be NCHW or NHWC, got '", dataformats, "'");
  file_->add_summary(detail::image_summary(tag, detail::to_image8(tag, imgs, dataformats)), step,
                     detail::now_seconds());
}

void SummaryWriter::add_text(const std::string& tag, const std::string& text, int64_t step) {
  file_->add_summary(detail::text_summary(tag, text), step, detail::now_seconds());
}

void SummaryWriter::add_hparams(const std::map<std::string, HParam>& hparams,
                                const std::map<std::string, double>& metrics, const std::string& run_name) {
  std::string name = run_name;
  if (name.empty()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", detail::now_seconds());
    name = buf;
  }
  // As PyTorch: a separate run, closed at once, holding the three hparams summaries and the metrics.
  detail::EventFileWriter w((std::filesystem::path(log_dir_) / name).string(), 0, options_.filename_suffix);
  double wall_time = detail::now_seconds();
  for (const auto& s : detail::hparams_summaries(hparams, metrics)) w.add_summary(s, 0, wall_time);
  for (const auto& [tag, value] : metrics) w.add_summary(detail::scalar_summary(tag, value), 0, wall_time);
  w.close();
}

void SummaryWriter::flush() {
  file_->flush();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [dir, w] : scalars_writers_) w->flush();
}

void SummaryWriter::close() {
  file_->close();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [dir, w] : scalars_writers_) w->close();
}

}  // namespace nabla::tensorboard
