// Keras callbacks: History, EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, CSVLogger,
// TerminateOnNaN, LambdaCallback. Rules follow Keras 3's implementations.
#include "nabla/keras/callbacks.h"

#include "nabla/plot/training_curves.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "nabla/keras/model.h"
#include "nabla/optim/optimizer.h"

namespace nabla::keras::callbacks {
namespace {
const double kInf = std::numeric_limits<double>::infinity();

/// The monitored value, or nullopt (with Keras's warning) when the logs lack it.
std::optional<double> monitored(const Logs& logs, const std::string& monitor, const char* who) {
  auto it = logs.find(monitor);
  if (it != logs.end()) return it->second;
  std::string keys;
  for (const auto& [k, v] : logs) keys += (keys.empty() ? "" : ", ") + k;
  std::fprintf(stderr, "%s: metric '%s' is not available (available: %s); skipping\n", who, monitor.c_str(),
               keys.c_str());
  return std::nullopt;
}

optim::Optimizer& optimizer_of(Model* model, const char* who) {
  NABLA_CHECK(model != nullptr, who, ": not attached to a model");
  auto* opt = model->optimizer();
  NABLA_CHECK(opt != nullptr, who, ": the model has no optimizer (compile it first)");
  return *opt;
}
}  // namespace

bool monitor_is_max(const std::string& monitor, const std::string& mode, const char* who) {
  if (mode == "min") return false;
  if (mode == "max") return true;
  NABLA_CHECK(mode == "auto", who, ": mode must be \"auto\", \"min\" or \"max\", got \"", mode, "\"");
  for (const char* m : {"acc", "accuracy", "auc", "precision", "recall"}) {
    const std::string s(m);
    if (monitor.size() >= s.size() && monitor.compare(monitor.size() - s.size(), s.size(), s) == 0)
      return true;
  }
  return false;
}

// ---- History -------------------------------------------------------------------------------
void History::on_train_begin(Logs&) {}

void History::on_epoch_end(int e, Logs& logs) {
  epoch.push_back(e);
  for (const auto& [k, v] : logs) history[k].push_back(v);
}

void History::plot(const std::string& path) const {
  NABLA_CHECK(!history.empty(), "History::plot: no epoch was recorded (call fit first), nothing to draw into ",
              path);
  plot::training_curves(history, path);
}

// ---- EarlyStopping -------------------------------------------------------------------------
EarlyStopping::EarlyStopping(const EarlyStoppingOptions& o) : options(o) {
  max_ = monitor_is_max(o.monitor, o.mode, "EarlyStopping");
  NABLA_CHECK(o.patience >= 0, "EarlyStopping: patience must be >= 0, got ", o.patience);
}

bool EarlyStopping::improved(double value, double reference) const {
  // Keras: min_delta is subtracted in the direction of improvement.
  return max_ ? value - std::fabs(options.min_delta) > reference
              : value + std::fabs(options.min_delta) < reference;
}

void EarlyStopping::on_train_begin(Logs&) {
  wait_ = 0;
  stopped_epoch = 0;
  best_epoch = 0;
  best = max_ ? -kInf : kInf;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int epoch, Logs& logs) {
  auto current = monitored(logs, options.monitor, "EarlyStopping");
  if (!current || epoch < options.start_from_epoch) return;
  if (options.restore_best_weights && best_weights_.empty()) best_weights_ = model()->get_weights();
  ++wait_;
  if (improved(*current, best)) {
    best = *current;
    best_epoch = epoch;
    if (options.restore_best_weights) best_weights_ = model()->get_weights();
    if (!options.baseline || improved(*current, *options.baseline)) wait_ = 0;
    return;
  }
  if (wait_ >= options.patience && epoch > 0) {
    stopped_epoch = epoch;
    model()->stop_training = true;
  }
}

void EarlyStopping::on_train_end(Logs&) {
  if (stopped_epoch > 0 && options.verbose > 0) std::printf("Epoch %d: early stopping\n", stopped_epoch + 1);
  if (options.restore_best_weights && !best_weights_.empty()) {
    if (options.verbose > 0)
      std::printf("Restoring model weights from the end of the best epoch: %d.\n", best_epoch + 1);
    model()->set_weights(best_weights_);
  }
}

// ---- ReduceLROnPlateau ---------------------------------------------------------------------
ReduceLROnPlateau::ReduceLROnPlateau(const ReduceLROnPlateauOptions& o) : options(o) {
  NABLA_CHECK(o.factor < 1.0 && o.factor >= 0, "ReduceLROnPlateau: factor must be in [0, 1), got ", o.factor);
  max_ = monitor_is_max(o.monitor, o.mode, "ReduceLROnPlateau");
}

void ReduceLROnPlateau::on_train_begin(Logs&) {
  best_ = max_ ? -kInf : kInf;
  wait_ = 0;
  cooldown_counter_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(int epoch, Logs& logs) {
  auto& opt = optimizer_of(model(), "ReduceLROnPlateau");
  logs["learning_rate"] = opt.get_lr();
  auto current = monitored(logs, options.monitor, "ReduceLROnPlateau");
  if (!current) return;
  const bool in_cooldown = cooldown_counter_ > 0;
  if (in_cooldown) --cooldown_counter_, wait_ = 0;
  const bool better = max_ ? *current > best_ + options.min_delta : *current < best_ - options.min_delta;
  if (better) {
    best_ = *current;
    wait_ = 0;
  } else if (!in_cooldown) {
    if (++wait_ >= options.patience) {
      const double old_lr = opt.get_lr();
      if (old_lr > options.min_lr) {
        const double new_lr = std::max(old_lr * options.factor, options.min_lr);
        opt.set_lr(new_lr);
        if (options.verbose > 0)
          std::printf("Epoch %d: ReduceLROnPlateau reducing learning rate to %g.\n", epoch + 1, new_lr);
        cooldown_counter_ = options.cooldown;
        wait_ = 0;
      }
    }
  }
}

// ---- LearningRateScheduler ------------------------------------------------------------------
void LearningRateScheduler::on_epoch_begin(int epoch, Logs&) {
  auto& opt = optimizer_of(model(), "LearningRateScheduler");
  const double lr = schedule(epoch, opt.get_lr());
  NABLA_CHECK(std::isfinite(lr) && lr >= 0, "LearningRateScheduler: the schedule returned ", lr,
              " for epoch ", epoch, "; expected a finite, non-negative learning rate");
  opt.set_lr(lr);
  if (verbose > 0)
    std::printf("\nEpoch %d: LearningRateScheduler setting learning rate to %g.\n", epoch + 1, lr);
}

void LearningRateScheduler::on_epoch_end(int, Logs& logs) {
  logs["learning_rate"] = optimizer_of(model(), "LearningRateScheduler").get_lr();
}

// ---- CSVLogger -------------------------------------------------------------------------------
CSVLogger::~CSVLogger() {
  if (fd_ >= 0) ::close(fd_);
}

void CSVLogger::on_train_begin(Logs&) {
  if (fd_ >= 0) ::close(fd_);
  keys_.clear();
  fd_ = ::open(filename.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  NABLA_CHECK(fd_ >= 0, "CSVLogger: cannot open '", filename, "' for writing: ", std::strerror(errno));
}

void CSVLogger::on_epoch_end(int epoch, Logs& logs) {
  NABLA_CHECK(fd_ >= 0, "CSVLogger: '", filename, "' is not open (on_train_begin was not called)");
  std::string text;
  if (keys_.empty()) {
    for (const auto& [k, v] : logs) keys_.push_back(k);  // sorted, as Keras
    struct stat st {};
    const bool has_header = append && ::fstat(fd_, &st) == 0 && st.st_size > 0;
    if (!has_header) {
      text = "epoch";
      for (const auto& k : keys_) text += separator + k;
      text += "\n";
    }
  }
  text += std::to_string(epoch);
  for (const auto& k : keys_) {
    auto it = logs.find(k);
    char buf[64] = "NA";
    if (it != logs.end()) std::snprintf(buf, sizeof buf, "%.17g", it->second);
    text += separator + std::string(buf);
  }
  text += "\n";
  // One write per record, so a reader (or a crash) never sees half a row.
  const ssize_t n = ::write(fd_, text.data(), text.size());
  NABLA_CHECK(n == static_cast<ssize_t>(text.size()), "CSVLogger: writing '", filename,
              "' failed: ", std::strerror(errno));
}

void CSVLogger::on_train_end(Logs&) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// ---- ModelCheckpoint ------------------------------------------------------------------------
ModelCheckpoint::ModelCheckpoint(std::string path, const ModelCheckpointOptions& o)
    : filepath(std::move(path)), options(o) {
  NABLA_CHECK(!filepath.empty(), "ModelCheckpoint: filepath is empty");
  NABLA_CHECK(
      o.save_weights_only,
      "ModelCheckpoint: save_weights_only=false needs a whole-model file format, which nabla does not "
      "have; weights are saved as safetensors (set save_weights_only = true)");
  max_ = monitor_is_max(o.monitor, o.mode, "ModelCheckpoint");
}

void ModelCheckpoint::on_train_begin(Logs&) {
  best = options.initial_value_threshold ? *options.initial_value_threshold : (max_ ? -kInf : kInf);
}

std::string ModelCheckpoint::format_path(int epoch, const Logs& logs) const {
  // Python str.format fields: {name} or {name:spec} with a printf-compatible spec (02d, .3f, ...).
  std::string out;
  for (size_t i = 0; i < filepath.size(); ++i) {
    if (filepath[i] != '{') {
      out += filepath[i];
      continue;
    }
    size_t end = filepath.find('}', i);
    NABLA_CHECK(end != std::string::npos, "ModelCheckpoint: unclosed '{' in filepath '", filepath, "'");
    std::string field = filepath.substr(i + 1, end - i - 1), spec;
    if (auto colon = field.find(':'); colon != std::string::npos)
      spec = field.substr(colon + 1), field.resize(colon);
    char buf[128];
    if (field == "epoch") {
      if (spec.empty()) spec = "d";
      NABLA_CHECK(spec.back() == 'd', "ModelCheckpoint: {epoch} takes an integer format such as 02d, got '",
                  spec, "'");
      std::snprintf(buf, sizeof buf, ("%" + spec).c_str(), epoch + 1);
    } else {
      auto it = logs.find(field);
      NABLA_CHECK(it != logs.end(), "ModelCheckpoint: filepath field '{", field, "}' is not in the logs");
      if (spec.empty()) spec = "g";
      NABLA_CHECK(std::string("eEfgG").find(spec.back()) != std::string::npos, "ModelCheckpoint: {", field,
                  "} takes a floating-point format such as .3f, got '", spec, "'");
      std::snprintf(buf, sizeof buf, ("%" + spec).c_str(), it->second);
    }
    out += buf;
    i = end;
  }
  return out;
}

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs) {
  NABLA_CHECK(model() != nullptr, "ModelCheckpoint: not attached to a model");
  const std::string path = format_path(epoch, logs);
  if (options.save_best_only) {
    auto current = monitored(logs, options.monitor, "ModelCheckpoint");
    if (!current) return;
    const bool better = max_ ? *current > best : *current < best;
    if (!better) {
      if (options.verbose > 0)
        std::printf("Epoch %d: %s did not improve from %.5f\n", epoch + 1, options.monitor.c_str(), best);
      return;
    }
    if (options.verbose > 0)
      std::printf("Epoch %d: %s improved from %.5f to %.5f, saving model to %s\n", epoch + 1,
                  options.monitor.c_str(), best, *current, path.c_str());
    best = *current;
  } else if (options.verbose > 0) {
    std::printf("Epoch %d: saving model to %s\n", epoch + 1, path.c_str());
  }
  model()->save_weights(path);
  last_saved = path;
}

// ---- TerminateOnNaN, LambdaCallback ----------------------------------------------------------
void TerminateOnNaN::on_train_batch_end(int64_t batch, Logs& logs) {
  auto it = logs.find("loss");
  if (it == logs.end() || std::isfinite(it->second)) return;
  std::printf("Batch %lld: Invalid loss, terminating training\n", static_cast<long long>(batch));
  model()->stop_training = true;
}

void LambdaCallback::on_epoch_begin(int e, Logs& l) {
  if (fns_.on_epoch_begin) fns_.on_epoch_begin(e, l);
}
void LambdaCallback::on_epoch_end(int e, Logs& l) {
  if (fns_.on_epoch_end) fns_.on_epoch_end(e, l);
}
void LambdaCallback::on_train_batch_begin(int64_t b, Logs& l) {
  if (fns_.on_train_batch_begin) fns_.on_train_batch_begin(b, l);
}
void LambdaCallback::on_train_batch_end(int64_t b, Logs& l) {
  if (fns_.on_train_batch_end) fns_.on_train_batch_end(b, l);
}
void LambdaCallback::on_train_begin(Logs& l) {
  if (fns_.on_train_begin) fns_.on_train_begin(l);
}
void LambdaCallback::on_train_end(Logs& l) {
  if (fns_.on_train_end) fns_.on_train_end(l);
}

}  // namespace nabla::keras::callbacks
