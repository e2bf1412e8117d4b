// The kill-during-save test (CTest io.kill_during_save). A child process saves a 16 MB checkpoint
// over the same path again and again, each generation's weights all equal to the generation number;
// the parent SIGKILLs it at a random moment, then checks the file on disk still loads, validates,
// and is one whole generation (every weight equal to the generation in its metadata, never older
// than the last one seen). Repeated `rounds` times; a leftover temporary file after a kill shows
// the kill landed inside a write, and at least a third of the kills must have.
// (SIGKILL leaves the page cache intact, so this tests the temp-file + rename protocol; the fsyncs
// that make it survive power loss are not exercised by any kill.)
//   kill_during_save [rounds]            parent (default 40 rounds)
//   kill_during_save --child PATH GEN FD child: writes a byte to FD once started, then saves
//                                        generations GEN, GEN+1, ... until killed
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "nabla/io/checkpoint.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"

namespace fs = std::filesystem;
using namespace nabla;

namespace {

nn::Linear make_model() { return nn::Linear(2048, 2048, /*bias=*/false); }

void save_generation(nn::Linear& model, const std::string& path, int64_t gen) {
  {
    NoGradGuard g;
    model->weight.fill_(static_cast<double>(gen));
  }
  save_checkpoint(path, {.model = &*model, .rng = nullptr, .user = {{"generation", std::to_string(gen)}}});
}

// Loads and checks the file; returns its generation, or -1 (with a message) if it is bad.
int64_t check(const std::string& path, nn::Linear& model) {
  try {
    TrainingState st{.model = &*model, .rng = nullptr};
    load_checkpoint(path, st);
    int64_t gen = std::stoll(st.user.at("generation"));
    Tensor w = model->weight;
    double lo = w.min().item<double>(), hi = w.max().item<double>();
    if (lo != double(gen) || hi != double(gen)) {
      std::cerr << "FAIL: generation " << gen << " but weights span [" << lo << ", " << hi << "]\n";
      return -1;
    }
    return gen;
  } catch (const std::exception& e) {
    std::cerr << "FAIL: " << e.what() << "\n";
    return -1;
  }
}

int child(const std::string& path, int64_t gen, int ready_fd) {
  nn::Linear model = make_model();
  // Start-up (exec, library and model initialisation) is over: tell the parent to start its clock.
  if (::write(ready_fd, "r", 1) != 1) return 3;
  ::close(ready_fd);
  for (;; ++gen) save_generation(model, path, gen);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--child")
    return child(argv[2], std::stoll(argv[3]), std::atoi(argv[4]));
  int rounds = argc > 1 ? std::atoi(argv[1]) : 40;
  fs::path dir = fs::temp_directory_path() / ("nabla_kill_during_save_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "ckpt.safetensors").string();

  nn::Linear model = make_model();
  auto t0 = std::chrono::steady_clock::now();
  save_generation(model, path, 0);
  double save_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  std::mt19937_64 rng(12345);
  int64_t last = 0, mid_write = 0, failures = 0;
  // At least `rounds` kills, and more (up to 3x) until a third of `rounds` landed inside a write:
  // where a kill lands depends on the machine's load (a busy machine stretches the parts of a save
  // around the write), and the test needs enough mid-write kills to mean something.
  int r = 0;
  for (; r < rounds || (mid_write * 3 < rounds && r < 3 * rounds); ++r) {
    int ready[2];
    if (::pipe(ready) != 0) return 2;
    // Built before fork: the child only execs.
    std::string next = std::to_string(last + 1), fd = std::to_string(ready[1]);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(ready[0]);
      ::execl("/proc/self/exe", argv[0], "--child", path.c_str(), next.c_str(), fd.c_str(),
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(ready[1]);
    char c;
    if (::read(ready[0], &c, 1) != 1) std::cerr << "the child did not start\n";
    ::close(ready[0]);
    // Somewhere in the child's first three saves.
    auto delay = std::uniform_real_distribution<double>(0.0, 3.0 * save_us)(rng);
    ::usleep(static_cast<useconds_t>(delay));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status)) {
      std::cerr << "FAIL: the child exited by itself (status " << status << ")\n";
      ++failures;
    }
    for (const auto& e : fs::directory_iterator(dir))  // temp files a kill left behind
      if (e.path().filename().string().find(".tmp.") != std::string::npos) {
        ++mid_write;
        fs::remove(e.path());
      }
    int64_t gen = check(path, model);
    if (gen < 0 || gen < last) {
      if (gen >= 0) std::cerr << "FAIL: generation went back from " << last << " to " << gen << "\n";
      ++failures;
    } else {
      last = gen;
    }
  }
  fs::remove_all(dir);
  std::cout << r << " kills, " << mid_write << " inside a write, last generation " << last
            << ", one save " << save_us / 1000 << " ms, " << failures << " failures\n";
  if (mid_write * 3 < rounds) {
    std::cerr << "FAIL: too few kills landed inside a write to test anything\n";
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
