// Internal: kernel workspace (scratch) that a compiled graph plans into its arena.
//
// A kernel that needs temporary memory (conv's padded images, im2col columns, packed weights) takes
// it through ops::conv_cpu::Scratch (or ws::Reservation directly). Every reservation is pushed on a
// per-thread stack whose high-water mark is measured on every run: while tracing, the tracer reads
// it after each op and stores it on the graph node (Node::workspace), so the kernel's workspace is
// "declared" by running it once on the traced shapes, with no second copy of each kernel's sizing
// logic. The executor then plans one block per node into the arena (live only during that node, so
// it reuses memory of dead values) and makes it the thread's workspace region around the kernel:
// reservations are carved from it instead of the caching allocator. A reservation that does not fit
// (another thread, a changed thread count) falls back to the allocator, so correctness never
// depends on the plan.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nabla::ops::ws {

struct Region {
  char* base = nullptr;  // the region the executor lent for the running kernel, or null
  size_t cap = 0;
  size_t top = 0;   // bytes reserved now (including measured-only reservations)
  size_t high = 0;  // high-water mark of `top` since the last take_high()
};

/// This thread's region.
Region& current();

/// Reservations are multiples of 64 bytes (cache-line aligned inside the region).
inline size_t round_up(size_t bytes) { return (bytes + 63) / 64 * 64; }
/// What a reservation of n elements (at least 1, as conv_cpu::Scratch takes) of elem_size bytes
/// occupies: for passes that write a fused node's Node::workspace.
inline int64_t reserved_bytes(int64_t n, size_t elem_size) {
  return static_cast<int64_t>(round_up(static_cast<size_t>(n > 1 ? n : 1) * elem_size));
}

/// Reserves `bytes`: returns memory from the lent region, or null (the caller allocates); either
/// way the reservation counts toward the high-water mark until release().
inline char* reserve(size_t bytes) {
  Region& r = current();
  bytes = round_up(bytes);
  char* p = (r.base && r.top + bytes <= r.cap) ? r.base + r.top : nullptr;
  r.top += bytes;
  if (r.top > r.high) r.high = r.top;
  return p;
}
/// Ends the most recent reservation of `bytes` (reservations are scoped, so LIFO).
inline void release(size_t bytes) { current().top -= round_up(bytes); }

/// The high-water mark since the last call (and resets it).
size_t take_high();

/// Lends [base, base + cap) to this thread's kernels for its lifetime.
class Lend {
 public:
  Lend(char* base, size_t cap);
  ~Lend();
  Lend(const Lend&) = delete;
  Lend& operator=(const Lend&) = delete;

 private:
  Region saved_;
};

}  // namespace nabla::ops::ws
