// CPU caching allocator: size classes (powers of two, 64-byte aligned) with free lists, so a
// training step that allocates the same shapes every iteration reaches the system only once.
#include <sys/mman.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "nabla/detail/tensor_impl.h"
#include "nabla/error.h"
#include "nabla/runtime.h"

namespace nabla::detail {
namespace {

constexpr int kNumClasses = 48;
constexpr size_t kMaxCached = size_t(2) << 30;  // keep at most 2 GiB of freed blocks

struct CpuCache {
  std::mutex mu;
  std::vector<void*> free_list[kNumClasses];
  MemoryStats stats;
};
CpuCache& cache() {
  static CpuCache* c = new CpuCache;  // never destroyed: tensors may outlive static destructors
  return *c;
}

int size_class(size_t nbytes) {
  size_t cap = 64;
  int c = 0;
  while (cap < nbytes) cap <<= 1, ++c;
  return c;
}
size_t class_bytes(int c) { return size_t(64) << c; }

void cpu_free(void* data, size_t nbytes, void*) {
  auto& ca = cache();
  int c = size_class(nbytes);
  std::lock_guard<std::mutex> lock(ca.mu);
  ca.stats.live_bytes -= class_bytes(c);
  if (c < kNumClasses && ca.stats.cached_bytes + class_bytes(c) <= kMaxCached) {
    ca.free_list[c].push_back(data);
    ca.stats.cached_bytes += class_bytes(c);
  } else {
    std::free(data);
  }
}

}  // namespace

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device) {
  NABLA_CHECK(device.is_cpu(), "cannot allocate on ", device,
              ": this build of nabla has no CUDA backend (nabla::cuda::is_available() is false)");
  auto st = std::make_shared<Storage>();
  st->device = device;
  st->nbytes = nbytes;
  st->free_fn = cpu_free;
  int c = size_class(nbytes);
  NABLA_CHECK(c < kNumClasses, "allocation of ", nbytes, " bytes is too large");
  size_t cap = class_bytes(c);
  auto& ca = cache();
  {
    std::lock_guard<std::mutex> lock(ca.mu);
    ++ca.stats.requests;
    ca.stats.live_bytes += cap;
    if (ca.stats.live_bytes > ca.stats.peak_bytes) ca.stats.peak_bytes = ca.stats.live_bytes;
    if (!ca.free_list[c].empty()) {
      st->data = ca.free_list[c].back();
      ca.free_list[c].pop_back();
      ca.stats.cached_bytes -= cap;
      return st;
    }
    ++ca.stats.system_allocs;
  }
  // Large blocks (datasets held in memory, big weights) start on a 2 MiB boundary and ask for
  // transparent huge pages: gathering random rows of a 47 MB image table otherwise misses the TLB
  // on nearly every row, which halves the speed of a DataLoader's batch gather. Best effort
  // (ignored where THP is off); blocks this large round to a power of two anyway.
  constexpr size_t kHuge = size_t(2) << 20;
  if (cap >= 2 * kHuge) {
    st->data = std::aligned_alloc(kHuge, cap);
    if (st->data) madvise(st->data, cap, MADV_HUGEPAGE);
  } else {
    st->data = std::aligned_alloc(64, cap);
  }
  if (!st->data) {
    std::lock_guard<std::mutex> lock(ca.mu);
    ca.stats.live_bytes -= cap;
    st->free_fn = nullptr;
    throw Error("out of memory: could not allocate " + std::to_string(nbytes) + " bytes on cpu");
  }
  return st;
}

}  // namespace nabla::detail

namespace nabla {

MemoryStats memory_stats(Device device) {
  NABLA_CHECK(device.is_cpu(), "memory_stats: no allocator for ", device);
  auto& ca = detail::cache();
  std::lock_guard<std::mutex> lock(ca.mu);
  return ca.stats;
}

void reset_memory_stats(Device device) {
  NABLA_CHECK(device.is_cpu(), "reset_memory_stats: no allocator for ", device);
  auto& ca = detail::cache();
  std::lock_guard<std::mutex> lock(ca.mu);
  ca.stats.peak_bytes = ca.stats.live_bytes;
  ca.stats.requests = 0;
  ca.stats.system_allocs = 0;
}

void empty_cache(Device device) {
  NABLA_CHECK(device.is_cpu(), "empty_cache: no allocator for ", device);
  auto& ca = detail::cache();
  std::lock_guard<std::mutex> lock(ca.mu);
  for (auto& fl : ca.free_list) {
    for (void* p : fl) std::free(p);
    fl.clear();
  }
  ca.stats.cached_bytes = 0;
}

}  // namespace nabla
