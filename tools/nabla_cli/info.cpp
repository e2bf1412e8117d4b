// `nabla info FILE.safetensors`: reads and validates only the header (no tensor data), then
// prints one line per tensor and the totals. A nabla checkpoint is recognised by its metadata, and
// its model parameters ("model/...") are counted separately.
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "nabla/error.h"
#include "nabla/io/safetensors.h"

namespace nabla::cli {
namespace {

uint64_t elements(const io::SafetensorsEntry& e) {
  uint64_t n = 1;
  for (uint64_t d : e.shape) n *= d;  // cannot overflow: the header was validated
  return n;
}

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

}  // namespace

int info(const std::vector<std::string>& args, std::ostream& out) {
  bool as_json = false;
  std::string path;
  for (const auto& a : args) {
    if (a == "--json") {
      as_json = true;
    } else {
      NABLA_CHECK(path.empty() && !a.starts_with("--"), "unexpected argument '", a,
                  "' (usage: nabla info FILE.safetensors [--json])");
      path = a;
    }
  }
  NABLA_CHECK(!path.empty(), "missing the file (usage: nabla info FILE.safetensors|BUNDLE_DIR [--json])");
  if (std::filesystem::is_directory(path)) return info_bundle(path, as_json, out);
  io::SafetensorsHeader h = io::read_safetensors_header(path);
  bool checkpoint = h.metadata.count("nabla.checkpoint") != 0;
  uint64_t total = 0, bytes = 0, model = 0;
  for (const auto& e : h.entries) {
    total += elements(e);
    bytes += e.end - e.begin;
    if (e.name.starts_with("model/")) model += elements(e);
  }
  if (as_json) {
    nlohmann::ordered_json j;
    j["file"] = path;
    j["kind"] = checkpoint ? "nabla checkpoint" : "safetensors";
    j["metadata"] = h.metadata;
    j["tensors"] = nlohmann::json::array();
    for (const auto& e : h.entries)
      j["tensors"].push_back({{"name", e.name}, {"dtype", e.dtype}, {"shape", e.shape}});
    j["elements"] = total;
    j["bytes"] = bytes;
    if (checkpoint) j["model_parameters"] = model;
    out << j.dump(2) << "\n";
    return 0;
  }
  out << path << ": " << (checkpoint ? "nabla checkpoint" : "safetensors") << ", " << h.entries.size()
      << " tensors, " << total << " elements, " << bytes << " bytes of data\n";
  if (checkpoint) out << "model parameters: " << model << "\n";
  for (const auto& [k, v] : h.metadata) out << "metadata " << k << " = " << v << "\n";
  size_t width = 4;
  for (const auto& e : h.entries) width = std::max(width, e.name.size());
  for (const auto& e : h.entries)
    out << "  " << std::left << std::setw(int(width)) << e.name << "  " << std::setw(5) << e.dtype << " "
        << shape_str(e.shape) << "\n";
  return 0;
}

}  // namespace nabla::cli
