#include "ops/registry.h"

namespace nabla::ops {
void register_reduce_ops() {}
}  // namespace nabla::ops
