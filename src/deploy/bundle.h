// Bundle directory layout and the parts of its reader that work on file contents (shared by
// load_model, the exporter's self-check and the fuzz target).
//   <dir>/bundle.json          {"format": "nabla.bundle", "version": 1, "signature": {...},
//                               "metadata": {...}, "files": {"graph": ..., "weights": ...}}
//   <dir>/graph.json           deploy/graph_json.h
//   <dir>/weights.safetensors  params (module names) and constants ("const/<id>")
#pragma once
#include <string>

#include "nabla/deploy/loaded_model.h"
#include "nabla/io/safetensors.h"

namespace nabla::deploy {

inline constexpr const char* kBundleJson = "bundle.json";
inline constexpr const char* kGraphJson = "graph.json";
inline constexpr const char* kWeightsFile = "weights.safetensors";

/// A LoadedModel from the bundle's contents; `dir` names the bundle in error messages.
LoadedModel load_bundle(const std::string& bundle_json, const std::string& graph_json,
                        io::SafetensorsFile weights, const std::string& dir);

}  // namespace nabla::deploy
