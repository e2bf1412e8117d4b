// libFuzzer target: the bundle loader (bundle.json + graph.json + weights.safetensors).
// Framing of one input: [u32 LE n1][n1 bytes bundle.json][u32 LE n2][n2 bytes graph.json][rest:
// weights.safetensors]; a buffer too short for the framing is ignored. Any input must load or
// throw nabla::Error; a loaded bundle is also specialised to batch sizes 1 and 3 (every shape rule
// checked again), but not run: a valid graph may legitimately ask for huge activations.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "deploy/bundle.h"

namespace {

bool take(const uint8_t*& p, size_t& left, std::string& out) {
  if (left < 4) return false;
  uint32_t n;
  std::memcpy(&n, p, 4);
  p += 4;
  left -= 4;
  if (n > left) return false;
  out.assign(reinterpret_cast<const char*>(p), n);
  p += n;
  left -= n;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bundle, graph;
  if (!take(data, size, bundle) || !take(data, size, graph)) return 0;
  try {
    nabla::io::SafetensorsFile weights = nabla::io::parse_safetensors(data, size, "fuzz/weights.safetensors");
    nabla::LoadedModel m = nabla::deploy::load_bundle(bundle, graph, std::move(weights), "fuzz");
    if (m.signature().inputs.empty()) std::abort();  // the loader guarantees a non-empty signature
    (void)m.dump(1);
    if (m.signature().symbolic_batch) (void)m.dump(3);
  } catch (const nabla::Error&) {
  }
  return 0;
}
