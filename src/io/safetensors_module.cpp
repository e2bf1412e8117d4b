// nabla::load_into (safetensors into an nn::Module): kept apart from the reader so the inference
// library, which has no nn modules, carries the reader alone.
#include "nabla/io/safetensors.h"

namespace nabla {

nn::LoadResult load_into(nn::Module& module, const std::string& path, bool strict) {
  return module.load_state_dict(load(path), strict);
}

}  // namespace nabla
