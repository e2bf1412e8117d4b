// Internal: cache prefetch of the rows a batch will gather (Dataset::prefetch of in-memory datasets).
#pragma once
#include <cstdint>
#include <span>

namespace nabla::data::detail {

/// Prefetches every cache line of rows `indices` (0 <= i < rows) of a row-major table with rows of
/// `row_bytes` bytes at `base`. Out-of-range indices are skipped (the gather reports them).
/// A random 784-byte row from a 47 MB table otherwise costs a TLB walk and a DRAM round trip at the
/// start of its copy; issued one training step ahead, the copy finds the lines in L2.
inline void prefetch_rows(const void* base, int64_t row_bytes, int64_t rows,
                          std::span<const int64_t> indices) {
  if (row_bytes <= 0) return;
  const char* b = static_cast<const char*>(base);
  for (int64_t i : indices) {
    if (i < 0 || i >= rows) continue;
    const char* r = b + i * row_bytes;
    for (int64_t off = 0; off < row_bytes; off += 64) __builtin_prefetch(r + off, 0, 3);
    __builtin_prefetch(r + row_bytes - 1, 0, 3);  // the last line when the row is not 64-aligned
  }
}

}  // namespace nabla::data::detail
