// The event file itself: its name, its first record, buffering and the flush timer, and what a
// process killed while logging leaves behind.
#include "tensorboard/event_file_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "nabla/error.h"
#include "tensorboard/record_reader.h"
#include "tensorboard/summary.h"

namespace nabla::tensorboard::detail {
namespace {

namespace fs = std::filesystem;
using testing::read_events;
using testing::read_records;

std::string fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("nabla_tb_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir.string();
}

TEST(TensorboardEventFile, NameAndFirstRecord) {
  std::string dir = fresh_dir("name");
  double before = now_seconds();
  EventFileWriter w(dir, 0);
  std::string name = fs::path(w.path()).filename().string();
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(events\.out\.tfevents\.\d{10}\.[^.]+.*\.\d+\.\d+)")))
      << name;
  EXPECT_EQ(fs::path(w.path()).parent_path(), fs::path(dir));
  // The file_version record is on disk before anything is flushed.
  auto events = read_events(w.path());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_EQ(events[0].step(), 0);
  EXPECT_GE(events[0].wall_time(), before - 1);
  EXPECT_LE(events[0].wall_time(), now_seconds() + 1);
  fs::remove_all(dir);
}

TEST(TensorboardEventFile, TwoWritersInOneSecondGetTwoFiles) {
  std::string dir = fresh_dir("two");
  EventFileWriter a(dir, 0), b(dir, 0);
  EXPECT_NE(a.path(), b.path());
  // Later writers sort after earlier ones only by time; within a second the counter differs.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 2);
  fs::remove_all(dir);
}

TEST(TensorboardEventFile, BufferedUntilFlushThenWholeRecords) {
  std::string dir = fresh_dir("buffer");
  EventFileWriter w(dir, 0);
  for (int i = 0; i < 5; ++i) w.add_summary(scalar_summary("loss", 1.0 / (i + 1)), i, now_seconds());
  EXPECT_EQ(read_records(w.path()).data.size(), 1u);  // only file_version so far
  w.flush();
  auto r = read_records(w.path());
  EXPECT_FALSE(r.corrupt);
  EXPECT_TRUE(r.tail.empty());
  auto events = read_events(w.path());
  ASSERT_EQ(events.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(events[i + 1].step(), i);
    ASSERT_EQ(events[i + 1].summary().value_size(), 1);
    EXPECT_EQ(events[i + 1].summary().value(0).tag(), "loss");
    EXPECT_EQ(events[i + 1].summary().value(0).simple_value(), float(1.0 / (i + 1)));
  }
  fs::remove_all(dir);
}

TEST(TensorboardEventFile, TimerFlushesWithoutExplicitFlush) {
  std::string dir = fresh_dir("timer");
  EventFileWriter w(dir, 0.05);
  w.add_summary(scalar_summary("x", 3), 7, now_seconds());
  // Poll rather than sleep a fixed time: a loaded machine may delay the timer thread.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (read_records(w.path()).data.size() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto events = read_events(w.path());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].step(), 7);
  fs::remove_all(dir);
}

TEST(TensorboardEventFile, CloseFlushesAndLaterAddsThrow) {
  std::string dir = fresh_dir("close");
  std::string path;
  {
    EventFileWriter w(dir, 120);
    path = w.path();
    w.add_summary(scalar_summary("x", 1), 1, now_seconds());
    w.close();
    EXPECT_EQ(read_events(path).size(), 2u);
    EXPECT_THROW(w.add_summary(scalar_summary("x", 2), 2, now_seconds()), Error);
    w.close();  // a second close does nothing
  }
  {
    EventFileWriter w(dir, 120);
    path = w.path();
    w.add_summary(scalar_summary("x", 1), 1, now_seconds());
  }  // the destructor flushes
  EXPECT_EQ(read_events(path).size(), 2u);
  fs::remove_all(dir);
}

TEST(TensorboardEventFile, UnwritableDirectoryIsAnError) {
  try {
    EventFileWriter w("/proc/nabla_cannot_exist/run", 0);
    FAIL() << "expected nabla::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/nabla_cannot_exist/run"), std::string::npos) << e.what();
  }
}

// A child process logs as fast as it can with a 5 ms flush timer and large image records (so that
// writes span many pages) and is killed with SIGKILL. Every whole record left in the file must be
// valid, parse, and have the steps in order without gaps; at most the last record may be cut
// short, which TensorBoard's reader treats as not yet written.
TEST(TensorboardEventFile, KilledWhileLoggingLeavesOnlyWholeRecords) {
  std::string dir = fresh_dir("kill");
  fs::create_directories(dir);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child never returns into gtest: it logs until killed, or leaves at once on an error.
    try {
      EventFileWriter w(dir, 0.005);
      Image8 img{64, 64, 3, std::vector<uint8_t>(64 * 64 * 3)};
      for (int64_t step = 0;; ++step) {
        for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 31 + step * 17);
        w.add_summary(step % 4 == 0 ? image_summary("img", img) : scalar_summary("loss", double(step)), step,
                      now_seconds());
      }
    } catch (...) {
      _exit(3);
    }
  }
  // Wait until the child has flushed a good number of records, then kill it mid-stream.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string path;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (auto& e : fs::directory_iterator(dir)) path = e.path().string();
    if (!path.empty() && fs::file_size(path) > 200000) break;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_FALSE(path.empty());

  auto r = read_records(path);
  EXPECT_FALSE(r.corrupt);
  EXPECT_LT(r.tail.size(), 16u + 64 * 64 * 3 + 1024) << "more than one record cut short";
  ASSERT_GT(r.data.size(), 20u);
  ::tensorboard::Event e;
  ASSERT_TRUE(e.ParseFromString(r.data[0]));
  EXPECT_EQ(e.file_version(), "brain.Event:2");
  for (size_t i = 1; i < r.data.size(); ++i) {
    ASSERT_TRUE(e.ParseFromString(r.data[i])) << "record " << i;
    EXPECT_EQ(e.step(), int64_t(i - 1));
    ASSERT_EQ(e.summary().value_size(), 1);
    if (e.step() % 4 == 0) {
      EXPECT_EQ(e.summary().value(0).image().width(), 64);
    } else {
      EXPECT_EQ(e.summary().value(0).simple_value(), float(e.step()));
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nabla::tensorboard::detail
