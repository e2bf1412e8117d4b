// Internal: the data behind a Tensor handle. Users go through nabla::Tensor.
//
// Storage   = one buffer on one device (shared by every view of it) + the in-place version counter.
// TensorImpl = view metadata (shape, strides, offset, dtype) + optional autograd metadata.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/shape.h"

namespace nabla {
class Tensor;
namespace autograd {
struct Node;
}

namespace detail {

/// A buffer plus how to free it. All views of a tensor share one Storage.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = kCPU;
  /// Frees `data` (allocator return or user deleter); null for borrowed memory that is never freed.
  void (*free_fn)(void* data, size_t nbytes, void* ctx) = nullptr;
  void* free_ctx = nullptr;
  /// Bumped by every in-place write; autograd compares it with the value seen when a tensor was saved.
  std::atomic<uint32_t> version{0};

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (free_fn) free_fn(data, nbytes, free_ctx);
  }
};

/// Allocates an uninitialised Storage of `nbytes` on `device` (through the device's caching allocator).
std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device);

using GradHook = std::function<Tensor(const Tensor&)>;

/// View metadata + autograd state. Shape/strides are inline (no heap), so a tensor costs one
/// allocation for this struct plus its Storage.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;       // in elements
  int64_t offset = 0;  // in elements, into storage
  DType dtype = kFloat32;
  bool requires_grad = false;
  bool retains_grad = false;
  /// A Python-style number wrapped as a 0-dim tensor: promotes by category only (x_f32 * 2.0 stays f32).
  bool is_wrapped_number = false;
  /// Made by a view op (shares storage with another tensor); in-place ops with autograd refuse it.
  bool is_view = false;
  uint32_t output_nr = 0;                   // which output of grad_fn this is
  std::shared_ptr<autograd::Node> grad_fn;  // null for leaves
  std::shared_ptr<TensorImpl> grad;         // accumulated .grad of a leaf (or retained non-leaf)
  std::vector<GradHook> hooks;              // hooks of a leaf (non-leaf hooks live on grad_fn)

  Device device() const { return storage ? storage->device : kCPU; }
  int64_t numel() const { return shape.numel(); }
  template <typename T = void>
  T* data() const {
    return reinterpret_cast<T*>(static_cast<char*>(storage->data) + offset * dtype_size(dtype));
  }
};

}  // namespace detail
}  // namespace nabla
