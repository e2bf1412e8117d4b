// keras::callbacks: hooks called by fit/evaluate/predict, Keras's set plus custom subclasses.
//   auto stop = std::make_shared<callbacks::EarlyStopping>(callbacks::EarlyStoppingOptions{
//       .monitor = "val_loss", .patience = 3, .restore_best_weights = true});
//   model.fit(x, y, {.epochs = 50, .callbacks = {stop, std::make_shared<callbacks::CSVLogger>("log.csv")}});
//
//   struct PrintLoss : callbacks::Callback {          // custom: override what you need
//     void on_epoch_end(int epoch, Logs& logs) override { std::cout << logs["loss"] << "\n"; }
//   };
// Logs map metric names ("loss", "accuracy", "val_loss", ...) to values; epochs count from 0.
// Callbacks may set model()->stop_training = true to end fit after the current batch/epoch.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::keras {

class Model;
using Logs = std::map<std::string, double>;

namespace callbacks {

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void set_model(Model* model) { model_ = model; }
  Model* model() const { return model_; }
  virtual void on_train_begin(Logs& logs) {}
  virtual void on_train_end(Logs& logs) {}
  virtual void on_epoch_begin(int epoch, Logs& logs) {}
  virtual void on_epoch_end(int epoch, Logs& logs) {}
  virtual void on_train_batch_begin(int64_t batch, Logs& logs) {}
  virtual void on_train_batch_end(int64_t batch, Logs& logs) {}
  virtual void on_test_begin(Logs& logs) {}
  virtual void on_test_end(Logs& logs) {}
  virtual void on_test_batch_begin(int64_t batch, Logs& logs) {}
  virtual void on_test_batch_end(int64_t batch, Logs& logs) {}
  virtual void on_predict_begin(Logs& logs) {}
  virtual void on_predict_end(Logs& logs) {}
  virtual void on_predict_batch_begin(int64_t batch, Logs& logs) {}
  virtual void on_predict_batch_end(int64_t batch, Logs& logs) {}

 protected:
  Model* model_ = nullptr;
};

/// Per-epoch logs; fit() returns one.
class History : public Callback {
 public:
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  /// Values per epoch by metric name: history.history["val_loss"][3].
  std::map<std::string, std::vector<double>> history;
  /// The epoch number of each entry.
  std::vector<int> epoch;
  /// Draws loss and metrics per epoch (val_* dashed beside their training curve) into a PNG at
  /// `path`, through nabla::plot::training_curves. Throws nabla::Error when nothing was recorded.
  void plot(const std::string& path) const;
};

/// "min", "max" or "auto" (max for accuracy/auc/precision/recall-like names, else min).
bool monitor_is_max(const std::string& monitor, const std::string& mode, const char* who);

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;
  int patience = 0;
  int verbose = 0;
  std::string mode = "auto";
  std::optional<double> baseline = {};
  bool restore_best_weights = false;
  int start_from_epoch = 0;
};
/// Stops training when `monitor` has not improved by min_delta for `patience` epochs; optionally
/// restores the weights of the best epoch (Keras 3's rules).
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(const EarlyStoppingOptions& options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  EarlyStoppingOptions options;
  /// The epoch training stopped at (0 when it ran to the end) and the best one.
  int stopped_epoch = 0;
  int best_epoch = 0;
  double best = 0;

 private:
  bool improved(double value, double reference) const;
  bool max_ = false;
  int wait_ = 0;
  std::vector<Tensor> best_weights_;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;
  int patience = 10;
  int verbose = 0;
  std::string mode = "auto";
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0;
};
/// Multiplies the learning rate by `factor` when `monitor` stalls for `patience` epochs.
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(const ReduceLROnPlateauOptions& options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  ReduceLROnPlateauOptions options;

 private:
  bool max_ = false;
  double best_ = 0;
  int wait_ = 0, cooldown_counter_ = 0;
};

/// Sets the learning rate at the start of each epoch to schedule(epoch, current_lr).
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(int, double)> schedule, int verbose = 0)
      : schedule(std::move(schedule)), verbose(verbose) {}
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  std::function<double(int, double)> schedule;
  int verbose;
};

/// Writes one CSV row per epoch: "epoch" then the logs' keys in sorted order. Each row is written
/// with a single write and flushed, so the file only ever holds whole records. append=true keeps
/// an existing file (and its header).
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string filename, char separator = ',', bool append = false)
      : filename(std::move(filename)), separator(separator), append(append) {}
  ~CSVLogger() override;
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  std::string filename;
  char separator;
  bool append;

 private:
  int fd_ = -1;
  std::vector<std::string> keys_;
};

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  int verbose = 0;
  bool save_best_only = false;
  /// Weights only (safetensors): nabla has no whole-model file format yet, so false is an error.
  bool save_weights_only = true;
  std::string mode = "auto";
  std::optional<double> initial_value_threshold = {};
};
/// Saves the model's weights (state_dict, safetensors, written atomically) after every epoch, or
/// only when `monitor` improves. `filepath` may hold Keras-style fields filled per epoch:
/// "ckpt/epoch{epoch:02d}-{val_loss:.3f}.safetensors" ({epoch} is 1-based, as in Keras).
/// Load them back with model.load_weights(path).
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, const ModelCheckpointOptions& options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  /// The path for `epoch` (0-based) and `logs`, with the fields filled in.
  std::string format_path(int epoch, const Logs& logs) const;
  std::string filepath;
  ModelCheckpointOptions options;
  /// The best monitored value so far and the last file written ("" if none).
  double best = 0;
  std::string last_saved;

 private:
  bool max_ = false;
};

/// Stops training as soon as a batch loss is NaN or infinite.
class TerminateOnNaN : public Callback {
 public:
  void on_train_batch_end(int64_t batch, Logs& logs) override;
};

/// A callback from lambdas (any may be left empty).
class LambdaCallback : public Callback {
 public:
  struct Options {
    std::function<void(int, Logs&)> on_epoch_begin = {};
    std::function<void(int, Logs&)> on_epoch_end = {};
    std::function<void(int64_t, Logs&)> on_train_batch_begin = {};
    std::function<void(int64_t, Logs&)> on_train_batch_end = {};
    std::function<void(Logs&)> on_train_begin = {};
    std::function<void(Logs&)> on_train_end = {};
  };
  explicit LambdaCallback(Options fns) : fns_(std::move(fns)) {}
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_batch_begin(int64_t batch, Logs& logs) override;
  void on_train_batch_end(int64_t batch, Logs& logs) override;
  void on_train_begin(Logs& logs) override;
  void on_train_end(Logs& logs) override;

 private:
  Options fns_;
};

}  // namespace callbacks
}  // namespace nabla::keras
