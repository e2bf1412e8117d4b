// keras::callbacks::TensorBoard over nabla::tensorboard::SummaryWriter.
#include "nabla/keras/tensorboard.h"

#include <filesystem>

#include "nabla/error.h"
#include "nabla/keras/model.h"

namespace nabla::keras::callbacks {

TensorBoard::TensorBoard(const TensorBoardOptions& o) : options(o) {
  NABLA_CHECK(!o.log_dir.empty(), "TensorBoard: log_dir must not be empty");
  NABLA_CHECK(o.histogram_freq >= 0, "TensorBoard: histogram_freq must be >= 0, got ", o.histogram_freq);
  NABLA_CHECK(o.update_freq >= 0, "TensorBoard: update_freq must be >= 0, got ", o.update_freq);
}

void TensorBoard::on_train_begin(Logs&) {
  // A new pair of event files per fit(), as Keras; earlier files in the runs stay readable.
  tensorboard::SummaryWriterOptions wo{.flush_secs = options.flush_secs};
  train_ = std::make_unique<tensorboard::SummaryWriter>(
      (std::filesystem::path(options.log_dir) / "train").string(), wo);
  validation_.reset();
  batches_ = 0;
}

void TensorBoard::on_train_batch_end(int64_t, Logs& logs) {
  ++batches_;
  if (!train_ || options.update_freq <= 0 || batches_ % options.update_freq != 0) return;
  for (const auto& [name, value] : logs) train_->add_scalar("batch_" + name, value, batches_);
}

void TensorBoard::on_epoch_end(int epoch, Logs& logs) {
  NABLA_CHECK(train_, "TensorBoard: on_epoch_end before on_train_begin");
  for (const auto& [name, value] : logs) {
    if (name.rfind("val_", 0) == 0) {
      if (!validation_) {
        tensorboard::SummaryWriterOptions wo{.flush_secs = options.flush_secs};
        validation_ = std::make_unique<tensorboard::SummaryWriter>(
            (std::filesystem::path(options.log_dir) / "validation").string(), wo);
      }
      validation_->add_scalar("epoch_" + name.substr(4), value, epoch);
    } else {
      train_->add_scalar("epoch_" + name, value, epoch);
    }
  }
  if (model_ && model_->optimizer())
    train_->add_scalar("epoch_learning_rate", model_->optimizer()->get_lr(), epoch);
  if (model_ && options.histogram_freq > 0 && epoch % options.histogram_freq == 0)
    for (const auto& [name, p] : model_->named_parameters()) train_->add_histogram(name, p, epoch);
  train_->flush();
  if (validation_) validation_->flush();
}

void TensorBoard::on_train_end(Logs&) {
  if (train_) train_->close();
  if (validation_) validation_->close();
}

}  // namespace nabla::keras::callbacks
