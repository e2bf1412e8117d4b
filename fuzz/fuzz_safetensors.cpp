// libFuzzer target: the safetensors reader. Any input must either parse or throw nabla::Error
// (anything else - a crash, a sanitizer report, another exception, a leak - is a bug). A parsed
// file must survive a write/read round trip unchanged.
#include <cstdlib>
#include <cstring>

#include "nabla/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nabla::io;
  SafetensorsFile f;
  try {
    f = parse_safetensors(data, size, "fuzz input");
  } catch (const nabla::Error&) {
    return 0;
  }
  std::string again = serialize_safetensors(f.tensors, f.metadata);
  SafetensorsFile g = parse_safetensors(again.data(), again.size(), "round trip");
  if (g.tensors.size() != f.tensors.size() || g.metadata != f.metadata) std::abort();
  for (const auto& [name, t] : f.tensors) {
    const nabla::Tensor& u = g.tensors.at(name);
    if (u.dtype() != t.dtype() || u.shape() != t.shape() ||
        std::memcmp(u.raw_data(), t.raw_data(), t.nbytes()))
      std::abort();
  }
  return 0;
}
