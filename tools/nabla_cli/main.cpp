// The `nabla` command-line tool. Subcommands live in a table (name, usage, function), so the
// bundle commands (`nabla run DIR`, `nabla bench DIR`, `nabla info DIR`) slot in next to `info`
// once the graph-mode bundle exists.
//   nabla info model.safetensors       tensor names, dtypes, shapes, element count, metadata
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
