// SummaryWriter: logs scalars, histograms, images, text and hyperparameters as TensorBoard event
// files, in the shape of PyTorch's torch.utils.tensorboard.SummaryWriter.
//
//   nabla::tensorboard::SummaryWriter writer("runs/mlp");     // runs/mlp/events.out.tfevents.*
//   for (int epoch = 0; epoch < 10; ++epoch) {
//     writer.add_scalar("loss/train", train_loss, epoch);
//     writer.add_histogram("fc1/weight", model.fc1->weight, epoch);
//   }
//   writer.add_image("samples", images, 0, "NCHW");           // a batch, tiled 8 per row
//   writer.add_hparams({{"lr", 1e-3}, {"optimizer", "adam"}}, {{"hparam/accuracy", 0.88}});
//   // then: tensorboard --logdir runs
//
// Each writer owns one new file (events.out.tfevents.<secs>.<host>.<pid>.<n>) in TensorBoard's
// TFRecord format with masked CRC-32C checksums. Records are buffered in memory and written by a
// background thread every flush_secs (120 s, as PyTorch), on flush(), close() and destruction. The
// file only grows by whole records, so a crash loses at most the records of the last interval.
// All methods may be called from several threads.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "nabla/tensor.h"

namespace nabla::tensorboard {

namespace detail {
class EventFileWriter;
}

/// A hyperparameter value for add_hparams: a number, a string or a bool.
struct HParam {
  HParam(double v) : value(v) {}
  HParam(float v) : value(double(v)) {}
  HParam(int v) : value(double(v)) {}
  HParam(int64_t v) : value(double(v)) {}
  HParam(bool v) : value(v) {}
  HParam(std::string v) : value(std::move(v)) {}
  HParam(const char* v) : value(std::string(v)) {}
  std::variant<double, std::string, bool> value;
};

struct SummaryWriterOptions {
  double flush_secs = 120;      ///< period of the background flush; <= 0: only flush()/close() write
  std::string comment = {};     ///< appended to the default log_dir name, as PyTorch's comment
  std::string filename_suffix = {};  ///< appended to the event file name
};

class SummaryWriter {
 public:
  /// Writes into `log_dir`, created if missing. An empty log_dir means
  /// runs/<Mon>DD_HH-MM-SS_<host><comment>, as PyTorch.
  explicit SummaryWriter(const std::string& log_dir = "", SummaryWriterOptions options = {});
  ~SummaryWriter();
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  /// One point of the scalar series `tag` (stored as float32, like TensorBoard's simple_value).
  void add_scalar(const std::string& tag, double value, int64_t step = 0);
  /// Several series on one chart: each key goes to the run <log_dir>/<main_tag>_<key> under tag
  /// main_tag, as PyTorch's add_scalars.
  void add_scalars(const std::string& main_tag, const std::map<std::string, double>& values,
                   int64_t step = 0);
  /// A histogram of every element of `values`, with PyTorch's default bucket edges.
  void add_histogram(const std::string& tag, const Tensor& values, int64_t step = 0);
  /// An image, PNG-encoded. dataformats: CHW (default), HWC or HW; 1 (gray), 3 (RGB) or 4 (RGBA)
  /// channels. uint8 pixels are used as is, floating ones are expected in [0, 1].
  void add_image(const std::string& tag, const Tensor& img, int64_t step = 0,
                 const std::string& dataformats = "CHW");
  /// A batch of images (NCHW by default, or NHWC) tiled into one grid of up to 8 columns.
  void add_images(const std::string& tag, const Tensor& imgs, int64_t step = 0,
                  const std::string& dataformats = "NCHW");
  /// Markdown text, shown by the Text dashboard under "<tag>/text_summary".
  void add_text(const std::string& tag, const std::string& text, int64_t step = 0);
  /// One row of the HParams dashboard: a new run <log_dir>/<run_name> (default: the time) holding
  /// the hyperparameters and the final metrics (also written there as scalars).
  void add_hparams(const std::map<std::string, HParam>& hparams, const std::map<std::string, double>& metrics,
                   const std::string& run_name = "");

  /// Writes every buffered record to disk.
  void flush();
  /// Flushes and closes every file of this writer; later add_* calls throw nabla::Error.
  void close();

  const std::string& log_dir() const { return log_dir_; }
  /// Path of the main event file.
  const std::string& file_path() const;

 private:
  std::string log_dir_;
  SummaryWriterOptions options_;
  std::unique_ptr<detail::EventFileWriter> file_;
  std::mutex mu_;  // guards scalars_writers_
  std::map<std::string, std::unique_ptr<detail::EventFileWriter>> scalars_writers_;
};

}  // namespace nabla::tensorboard
