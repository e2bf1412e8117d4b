// `nabla info DIR` for a model bundle: loads (and so fully validates) it, then prints the
// signature, parameter count, ops with node counts and the metadata.
#include <nlohmann/json.hpp>

#include "commands.h"
#include "nabla/deploy/loaded_model.h"

namespace nabla::cli {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + (s[i] < 0 ? std::string("N") : std::to_string(s[i]));
  return out + "]";
}

}  // namespace

int info_bundle(const std::string& dir, bool as_json, std::ostream& out) {
  LoadedModel m = load_model(dir);
  const Signature& sig = m.signature();
  if (as_json) {
    nlohmann::ordered_json j;
    j["bundle"] = dir;
    auto specs = [](const std::vector<TensorSpec>& v) {
      nlohmann::ordered_json a = nlohmann::ordered_json::array();
      for (const auto& s : v)
        a.push_back({{"name", s.name}, {"dtype", dtype_name(s.dtype)}, {"shape", s.shape}});
      return a;
    };
    j["inputs"] = specs(sig.inputs);
    j["outputs"] = specs(sig.outputs);
    j["batch"] =
        sig.symbolic_batch ? nlohmann::ordered_json("symbolic") : nlohmann::ordered_json(sig.fixed_batch);
    j["parameters"] = m.num_parameters();
    j["ops"] = nlohmann::ordered_json::object();
    for (const auto& [op, n] : m.op_counts()) j["ops"][op] = n;
    j["metadata"] = m.metadata();
    out << j.dump(2) << "\n";
    return 0;
  }
  out << dir << ": nabla bundle, batch "
      << (sig.symbolic_batch ? std::string("N (any size)") : std::to_string(sig.fixed_batch)) << "\n";
  for (const auto& s : sig.inputs)
    out << "  input  " << s.name << ": " << dtype_name(s.dtype) << shape_str(s.shape) << "\n";
  for (const auto& s : sig.outputs)
    out << "  output " << s.name << ": " << dtype_name(s.dtype) << shape_str(s.shape) << "\n";
  out << "parameters: " << m.num_parameters() << "\n";
  out << "ops:";
  int nodes = 0;
  for (const auto& [op, n] : m.op_counts()) {
    out << " " << op << " x" << n;
    nodes += n;
  }
  out << " (" << nodes << " in all)\n";
  for (const auto& [k, v] : m.metadata()) out << "metadata " << k << " = " << v << "\n";
  return 0;
}

}  // namespace nabla::cli
