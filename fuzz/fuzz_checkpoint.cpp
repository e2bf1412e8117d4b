// libFuzzer target: the checkpoint reader, loading into a small model + Adam + StepLR + generator.
// Any input must load or throw nabla::Error; a failed load must leave the model unchanged.
#include <cstdlib>
#include <cstring>

#include "fuzz_model.h"

namespace {
std::string weights(FuzzModel& m) {
  std::string out;
  for (const auto& [k, t] : m.model->state_dict())
    out.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FuzzModel m;
  std::string before = weights(m);
  nabla::TrainingState st = m.state();
  try {
    nabla::load_checkpoint_bytes(data, size, st, "fuzz input");
  } catch (const nabla::Error&) {
    if (weights(m) != before) std::abort();  // a failed load changed the model
  }
  return 0;
}
