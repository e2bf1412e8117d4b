// Subcommands of the `nabla` tool: each takes its arguments (after the command name) and an
// output stream, returns the exit status, and throws nabla::Error for bad input.
#pragma once
#include <ostream>
#include <string>
#include <vector>

namespace nabla::cli {

struct Command {
  std::string name;
  std::string usage;
  std::string help;
  int (*run)(const std::vector<std::string>& args, std::ostream& out);
};

/// `nabla info FILE.safetensors|DIR [--json]`.
int info(const std::vector<std::string>& args, std::ostream& out);
/// `nabla info DIR`: a bundle's signature, parameter count and ops.
int info_bundle(const std::string& dir, bool as_json, std::ostream& out);
/// `nabla run DIR --input x.npy [--input ...] [--output y.npy ...]`.
int run(const std::vector<std::string>& args, std::ostream& out);
/// `nabla bench DIR [--batch N] [--iters N]`.
int bench(const std::vector<std::string>& args, std::ostream& out);

}  // namespace nabla::cli
