#include "tensorboard/event_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "nabla/error.h"
#include "tensorboard/crc32c.h"
#include "tensorboard/event.pb.h"

namespace nabla::tensorboard::detail {
namespace {

// Records are buffered until the timer fires; a few large images should not hold megabytes in
// memory for two minutes, so past this size the buffer is written at once.
constexpr size_t kMaxBufferBytes = 1 << 20;

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xFF));
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

// TensorBoard's Python writer (and PyTorch's) name: events.out.tfevents.<secs>.<host>.<pid>.<n>,
// with a per-process counter so that two writers opened in the same second differ.
std::string event_file_name(const std::string& suffix) {
  static std::atomic<int> counter{0};
  char secs[32];
  std::snprintf(secs, sizeof secs, "%010lld", static_cast<long long>(now_seconds()));
  return std::string("events.out.tfevents.") + secs + "." + host_name() + "." + std::to_string(getpid()) +
         "." + std::to_string(counter++) + suffix;
}

}  // namespace

std::string frame_record(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, masked_crc32c(std::string_view(out.data(), 8)), 4);
  out.append(data);
  put_le(out, masked_crc32c(data), 4);
  return out;
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

EventFileWriter::EventFileWriter(const std::string& log_dir, double flush_secs, const std::string& suffix)
    : log_dir_(log_dir), flush_secs_(flush_secs) {
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  NABLA_CHECK(!ec, "SummaryWriter: cannot create log directory '", log_dir, "': ", ec.message());
  path_ = (std::filesystem::path(log_dir) / event_file_name(suffix)).string();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  NABLA_CHECK(fd_ >= 0, "SummaryWriter: cannot create event file '", path_, "': ", std::strerror(errno));
  ::tensorboard::Event first;
  first.set_wall_time(now_seconds());
  first.set_file_version("brain.Event:2");
  add_event(first);
  flush();
  if (flush_secs_ > 0) thread_ = std::thread([this] { timer_loop(); });
}

EventFileWriter::~EventFileWriter() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report the error; close() called explicitly does.
  }
}

void EventFileWriter::add_event(const ::tensorboard::Event& event) {
  std::string record = frame_record(event.SerializeAsString());
  std::lock_guard<std::mutex> lock(mu_);
  NABLA_CHECK(!closed_, "SummaryWriter: cannot write to '", path_, "' after close()");
  NABLA_CHECK(error_.empty(), error_);
  buffer_ += record;
  if (buffer_.size() >= kMaxBufferBytes) write_buffer_locked();
}

void EventFileWriter::add_summary(const ::tensorboard::Summary& summary, int64_t step, double wall_time) {
  ::tensorboard::Event event;
  event.set_wall_time(wall_time);
  event.set_step(step);
  *event.mutable_summary() = summary;
  add_event(event);
}

void EventFileWriter::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  NABLA_CHECK(error_.empty(), error_);
  write_buffer_locked();
}

void EventFileWriter::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  write_buffer_locked();
  ::close(fd_);
  fd_ = -1;
  NABLA_CHECK(error_.empty(), error_);
}

// One write(2) per flush when it can; a short write (a full disk, a signal) continues where it
// stopped, so the bytes on disk are always a prefix of the records in order.
void EventFileWriter::write_buffer_locked() {
  size_t done = 0;
  while (done < buffer_.size() && fd_ >= 0) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = "SummaryWriter: writing '" + path_ + "' failed: " + std::strerror(errno);
      break;
    }
    done += static_cast<size_t>(n);
  }
  buffer_.erase(0, done);
}

void EventFileWriter::timer_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto period = std::chrono::duration<double>(flush_secs_);
  while (!closed_) {
    cv_.wait_for(lock, period, [this] { return closed_; });
    if (!closed_) write_buffer_locked();
  }
}

}  // namespace nabla::tensorboard::detail
