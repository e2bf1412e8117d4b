// One events.out.tfevents.* file: TFRecord framing, an in-memory buffer of whole records, and a
// background thread that flushes it every flush_secs. Internal to SummaryWriter.
//
// A record is framed in memory before it is appended to the buffer, and the buffer is handed to
// the kernel with write(2) on a file opened O_APPEND, so the file only ever grows by whole
// records. A process killed between flushes loses the records still in memory; a kill in the
// middle of a write can at worst cut the last record short, which TensorBoard's reader treats as
// "not written yet". Earlier records are never rewritten.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace tensorboard {
class Event;
class Summary;
}  // namespace tensorboard

namespace nabla::tensorboard::detail {

/// Frames one serialized Event as a TFRecord: length, masked CRC of length, data, masked CRC of data.
std::string frame_record(std::string_view data);
/// Unix time in seconds, as TensorBoard's wall_time.
double now_seconds();

class EventFileWriter {
 public:
  /// Creates `log_dir` if needed and a new event file in it; writes and flushes the file_version
  /// record. flush_secs <= 0 disables the timer (flush() and close() still write).
  EventFileWriter(const std::string& log_dir, double flush_secs, const std::string& filename_suffix = "");
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  void add_event(const ::tensorboard::Event& event);
  void add_summary(const ::tensorboard::Summary& summary, int64_t step, double wall_time);
  /// Writes every buffered record to the file.
  void flush();
  /// Flushes, stops the timer thread and closes the file; later adds throw.
  void close();

  const std::string& path() const { return path_; }
  const std::string& log_dir() const { return log_dir_; }

 private:
  void write_buffer_locked();
  void timer_loop();

  std::string log_dir_, path_;
  double flush_secs_;
  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;
  std::string error_;  // a write error seen by the timer thread, reported by the next call
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace nabla::tensorboard::detail
