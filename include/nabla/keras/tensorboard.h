// keras::callbacks::TensorBoard: fit() logs to TensorBoard event files, as Keras's callback does.
//   auto tb = std::make_shared<nabla::keras::callbacks::TensorBoard>(
//       nabla::keras::callbacks::TensorBoardOptions{.log_dir = "logs/mlp", .histogram_freq = 1});
//   model.fit(x, y, {.epochs = 10, .callbacks = {tb}, .validation_split = 0.1});
//   // then: tensorboard --logdir logs
//
// Like Keras, it writes two runs: <log_dir>/train with "epoch_<metric>" per epoch (step = epoch,
// counted from 0), "epoch_learning_rate", optional "batch_<metric>" every update_freq batches
// (step = batches seen since on_train_begin) and weight histograms every histogram_freq epochs;
// and <log_dir>/validation with the val_ metrics under the same "epoch_<metric>" tags, so the
// two curves share a chart.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "nabla/keras/callbacks.h"
#include "nabla/tensorboard/summary_writer.h"

namespace nabla::keras::callbacks {

struct TensorBoardOptions {
  std::string log_dir = "logs";
  int histogram_freq = 0;   ///< weight histograms every N epochs; 0: none
  int64_t update_freq = 0;  ///< also log batch_<metric> every N training batches; 0: per epoch only
  double flush_secs = 120;  ///< SummaryWriter's background flush period (files are flushed each epoch too)
};

class TensorBoard : public Callback {
 public:
  explicit TensorBoard(const TensorBoardOptions& options = {});
  explicit TensorBoard(const std::string& log_dir) : TensorBoard(TensorBoardOptions{.log_dir = log_dir}) {}
  void on_train_begin(Logs& logs) override;
  void on_train_batch_end(int64_t batch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  TensorBoardOptions options;

 private:
  std::unique_ptr<tensorboard::SummaryWriter> train_, validation_;
  int64_t batches_ = 0;
};

}  // namespace nabla::keras::callbacks
