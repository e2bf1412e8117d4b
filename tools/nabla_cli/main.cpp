// The `nabla` command-line tool (links only the inference library, nabla::inference).
// Subcommands live in a table (name, usage, function).
//   nabla info model.safetensors       tensor names, dtypes, shapes, element count, metadata
//   nabla info BUNDLE_DIR              signature, parameter count, ops used
//   nabla run BUNDLE_DIR --input x.npy [--output y.npy]
//   nabla bench BUNDLE_DIR [--batch N] [--iters N]
//   nabla help
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "nabla/error.h"

namespace {

const std::vector<nabla::cli::Command>& commands() {
  static const std::vector<nabla::cli::Command> table = {
      {"info", "info FILE.safetensors [--json]",
       "list the tensors of a safetensors file or checkpoint (name, dtype, shape), their element\n"
       "      count and bytes, and the metadata; checks the whole header first",
       nabla::cli::info},
      {"info", "info BUNDLE_DIR [--json]",
       "a model bundle: signature (names, dtypes, shapes; -1 = batch), parameter count, ops used\n"
       "      with their node counts, metadata",
       nabla::cli::info},
      {"run", "run BUNDLE_DIR --input x.npy [--input ...] [--output y.npy ...]",
       "runs a bundle on NumPy inputs (one --input per signature input, in order); writes the\n"
       "      outputs as .npy, or prints each output's shape and first values",
       nabla::cli::run},
      {"bench", "bench BUNDLE_DIR [--batch N] [--iters N] [--warmup N]",
       "load time (median of 5 loads), latency median / p90 over --iters calls on random inputs\n"
       "      of batch N (default 1, 1000 iters), throughput in samples/s",
       nabla::cli::bench},
  };
  return table;
}

void usage(std::ostream& os) {
  os << "usage: nabla COMMAND [ARGS]\n\ncommands:\n";
  for (const auto& c : commands()) os << "  " << c.usage << "\n      " << c.help << "\n";
  os << "  help\n      this text\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") ||
      !std::strcmp(argv[1], "-h")) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : commands())
    if (c.name == argv[1]) {
      try {
        return c.run(std::vector<std::string>(argv + 2, argv + argc), std::cout);
      } catch (const nabla::Error& e) {
        std::cerr << "nabla " << c.name << ": " << e.what() << "\n";
        return 1;
      }
    }
  std::cerr << "nabla: unknown command '" << argv[1] << "'\n";
  usage(std::cerr);
  return 2;
}
