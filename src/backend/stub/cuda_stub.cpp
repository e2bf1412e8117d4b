// CPU-only builds: CUDA is reported unavailable; tensors never reach a CUDA kernel, and any
// attempt to allocate on a CUDA device throws a clear error (see allocate_storage).
#include "nabla/device.h"

namespace nabla::cuda {
bool is_available() { return false; }
}  // namespace nabla::cuda
