// Internal: scratch memory for the conv kernels: from the workspace region a compiled graph lends
// the running kernel (ops/workspace.h: planned into the graph's arena), else from the caching
// allocator (no system allocation in steady state).
#pragma once
#include <algorithm>
#include <memory>

#include "ops/registry.h"
#include "ops/workspace.h"

namespace nabla::ops::conv_cpu {

template <typename T>
struct Scratch {
  std::shared_ptr<detail::Storage> s;
  T* p;
  size_t bytes;
  explicit Scratch(int64_t n) : bytes(static_cast<size_t>(std::max<int64_t>(n, 1)) * sizeof(T)) {
    p = reinterpret_cast<T*>(ws::reserve(bytes));
    if (!p) {
      s = detail::allocate_storage(bytes, kCPU);
      p = static_cast<T*>(s->data);
    }
  }
  ~Scratch() { ws::release(bytes); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

}  // namespace nabla::ops::conv_cpu
