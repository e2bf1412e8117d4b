// Command-line options shared by the training examples: --epochs N --seed S --threads T
// --train-limit N (use only the first N training images: short runs for `make demo`) --compiled
// (examples that support it train through nabla::jit::compile_train_step instead of eagerly).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

struct ExampleArgs {
  int epochs;
  uint64_t seed = 1;
  int threads = 1;
  int64_t train_limit = 0;  // 0 = the whole training set
  bool compiled = false;

  ExampleArgs(int argc, char** argv, int default_epochs) : epochs(default_epochs) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&]() -> const char* {
        if (i + 1 >= argc) {
          std::cerr << "missing value after " << a << "\n";
          std::exit(2);
        }
        return argv[++i];
      };
      if (a == "--epochs")
        epochs = std::atoi(next());
      else if (a == "--seed")
        seed = std::strtoull(next(), nullptr, 10);
      else if (a == "--threads")
        threads = std::atoi(next());
      else if (a == "--train-limit")
        train_limit = std::atoll(next());
      else if (a == "--compiled")
        compiled = true;
      else {
        std::cerr << "usage: " << argv[0]
                  << " [--epochs N] [--seed S] [--threads T] [--train-limit N] [--compiled]\n";
        std::exit(2);
      }
    }
  }
};
