// The plain float32 update formulas (sqrt and divide on the divider, as machines without AVX-512 run
// them), for the same-run comparison in optim_step_bench.cpp.
#define NABLA_OPTIM_NO_SIMD
#include "optim_step_kernels.h"

namespace optim_bench {
void plain_kernel_step(Kind kind, Buffers& b) { kernel_step(kind, b); }
}  // namespace optim_bench
