// SummaryWriter end to end, read back with the record reader and libprotobuf. The real
// TensorBoard reads the same kind of files in tests/tensorboard/read_events.py (CTest
// tensorboard.readback).
#include "nabla/tensorboard/summary_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "nabla/creation.h"
#include "nabla/error.h"
#include "tensorboard/hparams_plugin_data.pb.h"
#include "tensorboard/record_reader.h"

namespace nabla::tensorboard {
namespace {

namespace fs = std::filesystem;
using testing::read_events;

std::string fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("nabla_tbw_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir.string();
}

std::vector<std::string> event_files(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().find("tfevents") != std::string::npos)
      out.push_back(e.path().string());
  return out;
}

TEST(TensorboardSummaryWriter, ScalarsHistogramImageText) {
  std::string dir = fresh_dir("all");
  {
    SummaryWriter w(dir);
    EXPECT_EQ(w.log_dir(), dir);
    for (int step = 0; step < 3; ++step) w.add_scalar("loss/train", 1.0 / (step + 1), step);
    w.add_histogram("w", nabla::tensor({1.0f, 2.0f, 2.0f}), 5);
    w.add_image("img", nabla::zeros({3, 4, 6}), 6);
    w.add_images("grid", nabla::zeros({3, 1, 4, 6}), 6);
    w.add_text("notes", "hello", 7);
  }
  auto files = event_files(dir);
  ASSERT_EQ(files.size(), 1u);
  auto ev = read_events(files[0]);
  ASSERT_EQ(ev.size(), 8u);
  for (int step = 0; step < 3; ++step) {
    EXPECT_EQ(ev[1 + step].step(), step);
    EXPECT_EQ(ev[1 + step].summary().value(0).tag(), "loss/train");
    EXPECT_EQ(ev[1 + step].summary().value(0).simple_value(), float(1.0 / (step + 1)));
  }
  EXPECT_EQ(ev[4].summary().value(0).histo().num(), 3);
  EXPECT_EQ(ev[5].summary().value(0).image().width(), 6);
  EXPECT_EQ(ev[6].summary().value(0).image().width(), 18);  // 3 images in one row
  EXPECT_EQ(ev[7].summary().value(0).tensor().string_val(0), "hello");
  fs::remove_all(dir);
}

TEST(TensorboardSummaryWriter, AddScalarsWritesOneRunPerKey) {
  std::string dir = fresh_dir("scalars");
  {
    SummaryWriter w(dir);
    w.add_scalars("run/loss", {{"train", 0.5}, {"val", 0.7}}, 3);
    w.add_scalars("run/loss", {{"train", 0.4}, {"val", 0.6}}, 4);
  }
  for (auto [key, v0] : {std::pair{"train", 0.5}, std::pair{"val", 0.7}}) {
    auto files = event_files(dir + "/run_loss_" + key);
    ASSERT_EQ(files.size(), 1u) << key;
    auto ev = read_events(files[0]);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[1].summary().value(0).tag(), "run/loss");
    EXPECT_EQ(ev[1].summary().value(0).simple_value(), float(v0));
    EXPECT_EQ(ev[2].step(), 4);
  }
  fs::remove_all(dir);
}

TEST(TensorboardSummaryWriter, HParamsRun) {
  std::string dir = fresh_dir("hparams");
  SummaryWriter w(dir);
  w.add_hparams({{"lr", 0.01}, {"layers", 2}}, {{"hparam/loss", 0.25}}, "trial1");
  auto files = event_files(dir + "/trial1");
  ASSERT_EQ(files.size(), 1u);
  auto ev = read_events(files[0]);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[1].summary().value(0).tag(), "_hparams_/experiment");
  EXPECT_EQ(ev[4].summary().value(0).tag(), "hparam/loss");
  EXPECT_EQ(ev[4].summary().value(0).simple_value(), 0.25f);
  fs::remove_all(dir);
}

TEST(TensorboardSummaryWriter, DefaultLogDirIsUnderRuns) {
  auto cwd = fs::current_path();
  std::string dir = fresh_dir("default");
  fs::create_directories(dir);
  fs::current_path(dir);
  {
    SummaryWriter w("", {.comment = "_mlp"});
    EXPECT_EQ(w.log_dir().rfind("runs/", 0), 0u) << w.log_dir();
    EXPECT_EQ(w.log_dir().substr(w.log_dir().size() - 4), "_mlp");
  }
  fs::current_path(cwd);
  fs::remove_all(dir);
}

TEST(TensorboardSummaryWriter, ConcurrentWritersKeepRecordsWhole) {
  std::string dir = fresh_dir("threads");
  std::string path;
  {
    SummaryWriter w(dir, {.flush_secs = 0.001});
    path = w.file_path();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&w, t] {
        for (int i = 0; i < 200; ++i) w.add_scalar("t" + std::to_string(t), i, i);
      });
    for (auto& th : threads) th.join();
  }
  auto r = testing::read_records(path);
  EXPECT_FALSE(r.corrupt);
  EXPECT_TRUE(r.tail.empty());
  EXPECT_EQ(r.data.size(), 801u);
  fs::remove_all(dir);
}

TEST(TensorboardSummaryWriter, AfterCloseIsAnError) {
  std::string dir = fresh_dir("closed");
  SummaryWriter w(dir);
  w.add_scalar("x", 1);
  w.close();
  EXPECT_THROW(w.add_scalar("x", 2), Error);
  EXPECT_THROW(w.add_image("x", nabla::zeros({3, 2, 2}), 0, "NCHW"), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nabla::tensorboard
