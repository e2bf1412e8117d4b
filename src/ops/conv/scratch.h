// Internal: scratch memory for the conv kernels, from the caching allocator (no system allocation
// in steady state).
#pragma once
#include <algorithm>
#include <memory>

#include "ops/registry.h"

namespace nabla::ops::conv_cpu {

template <typename T>
struct Scratch {
  std::shared_ptr<detail::Storage> s;
  T* p;
  explicit Scratch(int64_t n) : s(detail::allocate_storage(std::max<int64_t>(n, 1) * sizeof(T), kCPU)) {
    p = static_cast<T*>(s->data);
  }
};

}  // namespace nabla::ops::conv_cpu
