// The kill-during-export test (CTest deploy.kill_during_export). A child process exports a bundle
// over the same directory again and again, generation g having every weight equal to g; the parent
// SIGKILLs it at a random moment, then checks the directory still loads as one whole generation:
// bundle.json's metadata says g, and the graph with those weights computes 1024 * g from ones.
// A half-new bundle (new graph or signature with old weights, or a missing file) fails. At least a
// quarter of the kills must land inside a write (a leftover "bundle.tmp.*" folder shows it).
//   kill_during_export [rounds]             parent (default 30)
//   kill_during_export --child DIR GEN FD   child: writes a byte to FD once started, then exports
//                                           generations GEN, GEN+1, ... until killed
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "nabla/deploy.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"

namespace fs = std::filesystem;
using namespace nabla;

namespace {

constexpr int64_t kWidth = 1024;

void export_generation(const std::string& dir, int64_t gen) {
  nn::Linear model(kWidth, 1, /*bias=*/false);
  {
    NoGradGuard g;
    model->weight.fill_(static_cast<double>(gen));
  }
  ExportOptions opt;
  opt.metadata = {{"generation", std::to_string(gen)}};
  export_model(*model, {ones({2, kWidth})}, dir, opt);
}

int64_t check(const std::string& dir) {
  try {
    LoadedModel m = load_model(dir);
    int64_t gen = std::stoll(m.metadata().at("generation"));
    double y = m(ones({1, kWidth})).item<double>();
    if (y != static_cast<double>(kWidth * gen)) {
      std::cerr << "FAIL: bundle says generation " << gen << " but computes " << y << "\n";
      return -1;
    }
    return gen;
  } catch (const std::exception& e) {
    std::cerr << "FAIL: " << e.what() << "\n";
    return -1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--child") {
    int fd = std::stoi(argv[4]);
    if (write(fd, "x", 1) != 1) return 3;
    close(fd);
    for (int64_t g = std::stoll(argv[3]);; ++g) export_generation(argv[2], g);
  }
  const int rounds = argc > 1 ? std::stoi(argv[1]) : 30;
  const fs::path root = fs::temp_directory_path() / ("nabla_kill_export_" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const std::string dir = (root / "bundle").string();
  export_generation(dir, 1);
  std::mt19937 rng(1234);
  int64_t last = 1, changed = 0, inside = 0;
  for (int r = 0; r < rounds; ++r) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
      close(pipefd[0]);
      execl("/proc/self/exe", argv[0], "--child", dir.c_str(), std::to_string(last + 1).c_str(),
            std::to_string(pipefd[1]).c_str(), static_cast<char*>(nullptr));
      _exit(4);
    }
    close(pipefd[1]);
    char c;
    if (read(pipefd[0], &c, 1) != 1) return 2;
    close(pipefd[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 120)(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    // A leftover temporary folder shows the kill landed inside an export's write phase.
    bool mid_write = false;
    for (const auto& e : fs::directory_iterator(root))
      if (e.path().filename().string().starts_with("bundle.tmp.")) {
        mid_write = true;
        fs::remove_all(e.path());
      }
    inside += mid_write;
    int64_t gen = check(dir);
    if (gen < 0 || gen < last) {
      std::cerr << "FAIL in round " << r << " (last good generation " << last << ")\n";
      fs::remove_all(root);
      return 1;
    }
    changed += gen > last;
    last = gen;
  }
  fs::remove_all(root);
  std::cout << rounds << " kills (" << inside
            << " inside a write), bundle always whole; it changed generation in " << changed << " rounds\n";
  if (inside * 4 < rounds) {
    std::cerr << "FAIL: too few kills landed inside a write to test anything\n";
    return 1;
  }
  return 0;
}
