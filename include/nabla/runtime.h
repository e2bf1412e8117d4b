// Process-wide runtime settings: threads and memory statistics.
//   nabla::set_num_threads(1);   // nabla's loops, OpenBLAS and OpenMP all use one thread
//   auto s = nabla::memory_stats(kCPU);  // live/peak bytes, allocations that reached the system
#pragma once
#include <cstddef>
#include <cstdint>

#include "nabla/device.h"

namespace nabla {

/// Threads used by nabla's parallel loops and by the BLAS (one shared OpenMP pool).
/// Results do not depend on this number.
void set_num_threads(int n);
int get_num_threads();

struct MemoryStats {
  size_t live_bytes = 0;       // bytes held by live tensors
  size_t peak_bytes = 0;       // high-water mark of live_bytes since the last reset
  size_t cached_bytes = 0;     // freed blocks kept for reuse
  uint64_t requests = 0;       // allocations asked of the caching allocator
  uint64_t system_allocs = 0;  // of those, how many went to the system (cache misses)
};
MemoryStats memory_stats(Device device = kCPU);
/// Resets peak_bytes to the current live_bytes and zeroes the counters.
void reset_memory_stats(Device device = kCPU);
/// Returns cached blocks to the system.
void empty_cache(Device device = kCPU);

/// Flush denormals to zero (FTZ/DAZ) on the calling thread and nabla's worker threads.
/// On by default, as in TensorFlow: denormal arithmetic is up to ~100x slower on x86.
void set_flush_denormal(bool on);

}  // namespace nabla
