// Tensor: a cheap, shared handle to an n-d array on a device, with optional autograd history.
//
// Copying a Tensor copies the handle (both refer to the same data), as in PyTorch.
// Views (reshape, permute, slice, expand, ...) share storage with their base; clone() copies.
//   auto x = nabla::randn({32, 784}).set_requires_grad(true);
//   auto y = (x * 2).relu().sum();
//   y.backward();            // x.grad() now holds dy/dx
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "nabla/detail/tensor_impl.h"
#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/scalar.h"
#include "nabla/shape.h"

namespace nabla {

/// A [start, end) range with a step along one dim, for Tensor::slice / index. Negative ends wrap.
struct Slice {
  int64_t start = 0;
  int64_t end = INT64_MAX;
  int64_t step = 1;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<detail::TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata -------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  const Shape& sizes() const { return impl_->shape; }
  /// Size of one dim; negative dims count from the end.
  int64_t size(int64_t dim) const;
  const Shape& strides() const { return impl_->strides; }
  int64_t stride(int64_t dim) const;
  int64_t storage_offset() const { return impl_->offset; }
  int dim() const { return impl_->shape.size(); }
  int64_t numel() const { return impl_->shape.numel(); }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->device(); }
  size_t element_size() const { return dtype_size(impl_->dtype); }
  size_t nbytes() const { return numel() * element_size(); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  /// True when both handles view the same storage.
  bool shares_storage_with(const Tensor& other) const { return impl_->storage == other.impl_->storage; }
  /// Pointer to the first element (after the storage offset). Checks that T matches dtype().
  template <typename T>
  T* data_ptr() const {
    NABLA_CHECK(dtype_of<T>::value == dtype(), "data_ptr: tensor has dtype ", dtype(), " but ",
                dtype_name(dtype_of<T>::value), " was requested");
    return impl_->data<T>();
  }
  void* raw_data() const { return impl_->data<void>(); }
  /// The value of a one-element tensor, converted to T.
  template <typename T>
  T item() const;
  /// Copies the elements (row-major) into a vector, converting to T.
  template <typename T>
  std::vector<T> to_vector() const;

  // ---- autograd --------------------------------------------------------------------------
  bool requires_grad() const { return impl_->requires_grad; }
  /// Marks a leaf as needing gradients (floating dtypes only). Returns *this for chaining.
  Tensor& set_requires_grad(bool r = true);
  Tensor& requires_grad_(bool r = true) { return set_requires_grad(r); }
  /// Accumulated gradient (undefined until backward reaches this tensor).
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& g);
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl_->grad_fn; }
  /// Backpropagates from this tensor. A non-scalar tensor needs `gradient` (same shape).
  void backward(const Tensor& gradient = {}, bool retain_graph = false, bool create_graph = false) const;
  /// Same data, no history, requires_grad false.
  Tensor detach() const;
  Tensor& detach_();
  /// Keep .grad for a non-leaf tensor too.
  void retain_grad() const;
  /// Runs `hook(grad)` when this tensor's gradient is computed; a defined return value replaces it.
  void register_hook(std::function<Tensor(const Tensor&)> hook) const;
  /// In-place version counter (shared by all views of the storage).
  uint32_t version() const { return impl_->storage->version.load(std::memory_order_relaxed); }

  // ---- conversion and copies ------------------------------------------------------------
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  Tensor to(Device device, DType dtype) const;
  Tensor cpu() const { return to(kCPU); }
  Tensor contiguous() const;
  Tensor clone() const;
  /// Copies src (broadcast, dtype-converted) into this tensor in place.
  Tensor& copy_(const Tensor& src);

  // ---- views (share storage) ------------------------------------------------------------
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  /// Transpose of a 2-d tensor (0-d and 1-d returned as is).
  Tensor t() const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end = INT64_MAX, int64_t step = 1) const;
  /// Python-style x[a:b:c, d:e] over the leading dims.
  Tensor index(std::initializer_list<Slice> slices) const;
  Tensor operator[](int64_t i) const { return select(0, i); }
  Tensor expand(const Shape& shape) const;
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unflatten(int64_t dim, const Shape& sizes) const;
  Tensor view_as(const Tensor& other) const { return view(other.shape()); }

  // ---- math (same as the free functions in ops.h) ----------------------------------------
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor abs() const;
  Tensor sign() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor pow(const Scalar& e) const;
  Tensor pow(const Tensor& e) const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max) const;
  Tensor sum() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor argmin(int64_t dim, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  // ---- in-place (trailing _, bump the version counter) -----------------------------------
  Tensor& add_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& add_(const Scalar& other);
  Tensor& sub_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& sub_(const Scalar& other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(const Scalar& other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(const Scalar& other);
  Tensor& zero_();
  Tensor& fill_(const Scalar& value);
  Tensor& relu_();
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max);
  Tensor& masked_fill_(const Tensor& mask, const Scalar& value);

  /// The handle's implementation (internal; for kernels and autograd).
  const std::shared_ptr<detail::TensorImpl>& impl() const { return impl_; }

 private:
  std::shared_ptr<detail::TensorImpl> impl_;
};

/// PyTorch-style printing: tensor([[1., 2.]], requires_grad=True); large tensors summarised.
std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::string to_string(const Tensor& t);

}  // namespace nabla
