// Public movement API: Tensor view methods and cat/stack/split/chunk/pad. Composites (reshape,
// transpose, flatten, narrow, stack, split) are written with the primitive views.
#include "nabla/ops.h"
#include "ops/movement/movement.h"
#include "ops/registry.h"

namespace nabla {
using ops::Attrs;
using ops::dispatch1;
using ops::OpId;

namespace {
// Resolves one -1 in a target shape against numel.
Shape infer_size(const Shape& shape, int64_t numel, const char* op) {
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      NABLA_CHECK(infer < 0, op, ": only one dimension can be -1, got ", shape);
      infer = i;
    } else {
      NABLA_CHECK(s[i] >= 0, op, ": invalid size ", s[i], " in shape ", shape);
      known *= s[i];
    }
  }
  if (infer >= 0) {
    NABLA_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape, " is invalid for input of size ",
                numel);
    s[infer] = numel / known;
  }
  NABLA_CHECK(s.numel() == numel, op, ": shape ", shape, " is invalid for input of size ", numel);
  return s;
}
}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  Attrs a;
  a.shape = infer_size(shape, numel(), "view");
  return dispatch1(OpId::view, {*this}, a);
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = infer_size(shape, numel(), "reshape");
  if (s == this->shape()) return *this;
  // A view when the strides allow it (same rule as view), otherwise a contiguous copy.
  Shape unused;
  return ops::view_strides_for(*this, s, unused) ? view(s) : contiguous().view(s);
}

Tensor Tensor::permute(const Shape& dims) const {
  Attrs a;
  a.shape = dims;
  return dispatch1(OpId::permute, {*this}, a);
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  int nd = dim();
  if (nd == 0) return *this;
  int d0 = wrap_dim(dim0, nd, "transpose"), d1 = wrap_dim(dim1, nd, "transpose");
  Shape p;
  for (int i = 0; i < nd; ++i) p.push_back(i);
  std::swap(p[d0], p[d1]);
  return permute(p);
}

Tensor Tensor::t() const {
  NABLA_CHECK(dim() <= 2, "t: expects a tensor with <= 2 dims, but got ", dim(), " (shape ", shape(),
              "); use transpose(dim0, dim1)");
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  NABLA_CHECK(this->dim() > 0, "slice: cannot slice a 0-dim tensor");
  int d = wrap_dim(dim, this->dim(), "slice");
  NABLA_CHECK(step > 0, "slice: step must be positive, got ", step);
  int64_t n = shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Attrs a;
  a.i[0] = d;
  a.i[1] = start;
  a.i[2] = end;
  a.i[3] = step;
  return dispatch1(OpId::slice, {*this}, a);
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  NABLA_CHECK(this->dim() > 0, "narrow: cannot narrow a 0-dim tensor");
  int d = wrap_dim(dim, this->dim(), "narrow");
  int64_t n = shape()[d];
  if (start < 0) start += n;
  NABLA_CHECK(start >= 0 && length >= 0 && start + length <= n, "narrow: start ", start, " + length ", length,
              " exceeds dim ", d, " of size ", n, " (shape ", shape(), ")");
  return slice(d, start, start + length, 1);
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  NABLA_CHECK(this->dim() > 0, "select: cannot index a 0-dim tensor");
  int d = wrap_dim(dim, this->dim(), "select");
  int64_t n = shape()[d];
  NABLA_CHECK(index >= -n && index < n, "select: index ", index, " is out of bounds for dim ", d,
              " with size ", n);
  Attrs a;
  a.i[0] = d;
  a.i[1] = index < 0 ? index + n : index;
  return dispatch1(OpId::select, {*this}, a);
}

Tensor Tensor::index(std::initializer_list<Slice> slices) const {
  NABLA_CHECK(static_cast<int>(slices.size()) <= dim(), "index: got ", slices.size(),
              " slices for a tensor with ", dim(), " dims");
  Tensor r = *this;
  int d = 0;
  for (const Slice& s : slices) r = r.slice(d++, s.start, s.end, s.step);
  return r;
}

Tensor Tensor::expand(const Shape& shape) const {
  Attrs a;
  a.shape = shape;
  return dispatch1(OpId::expand, {*this}, a);
}

Tensor Tensor::squeeze() const {
  Attrs a;
  for (int i = 0; i < dim(); ++i)
    if (shape()[i] == 1) a.shape.push_back(i);
  return a.shape.empty() ? *this : dispatch1(OpId::squeeze, {*this}, a);
}

Tensor Tensor::squeeze(int64_t dim) const {
  if (this->dim() == 0) return *this;
  int d = wrap_dim(dim, this->dim(), "squeeze");
  if (shape()[d] != 1) return *this;  // PyTorch: squeezing a non-1 dim is a no-op
  Attrs a;
  a.shape.push_back(d);
  return dispatch1(OpId::squeeze, {*this}, a);
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  Attrs a;
  a.i[0] = wrap_dim(dim, this->dim() + 1, "unsqueeze");
  return dispatch1(OpId::unsqueeze, {*this}, a);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  NABLA_CHECK(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape out;
  for (int i = 0; i < s; ++i) out.push_back(shape()[i]);
  int64_t p = 1;
  for (int i = s; i <= e; ++i) p *= shape()[i];
  out.push_back(p);
  for (int i = e + 1; i < dim(); ++i) out.push_back(shape()[i]);
  return reshape(out);
}

Tensor Tensor::unflatten(int64_t dim, const Shape& sizes) const {
  int d = wrap_dim(dim, this->dim(), "unflatten");
  Shape inner = Shape(sizes);
  int64_t known = 1;
  int neg = -1;
  for (int i = 0; i < inner.size(); ++i) {
    if (inner[i] == -1)
      neg = i;
    else
      known *= inner[i];
  }
  if (neg >= 0 && known) inner[neg] = shape()[d] / known;
  NABLA_CHECK(inner.numel() == shape()[d], "unflatten: sizes ", sizes, " don't multiply up to the size ",
              shape()[d], " of dim ", d);
  Shape out;
  for (int i = 0; i < d; ++i) out.push_back(shape()[i]);
  for (int64_t v : inner) out.push_back(v);
  for (int i = d + 1; i < this->dim(); ++i) out.push_back(shape()[i]);
  return reshape(out);
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  NABLA_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  // Type promotion across the list, like torch.cat.
  DType t = tensors[0].dtype();
  for (const auto& x : tensors) t = promote_types(t, x.dtype());
  std::vector<Tensor> in;
  in.reserve(tensors.size());
  for (const auto& x : tensors) in.push_back(x.to(t));
  Attrs a;
  a.i[0] = wrap_dim(dim, tensors[0].dim(), "cat");
  Tensor out;
  ops::dispatch(OpId::cat, in.data(), static_cast<int>(in.size()), a, &out);
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  NABLA_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  int d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (size_t k = 0; k < tensors.size(); ++k) {
    NABLA_CHECK(tensors[k].shape() == tensors[0].shape(),
                "stack: all tensors must have the same shape, but tensor 0 has ", tensors[0].shape(),
                " and tensor ", k, " has ", tensors[k].shape());
    parts.push_back(tensors[k].unsqueeze(d));
  }
  return cat(parts, d);
}

std::vector<Tensor> split(const Tensor& a, const std::vector<int64_t>& sizes, int64_t dim) {
  int d = wrap_dim(dim, a.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  NABLA_CHECK(total == a.shape()[d], "split: sizes add up to ", total, " but dim ", d, " has size ",
              a.shape()[d]);
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(a.narrow(d, start, s));
    start += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& a, int64_t split_size, int64_t dim) {
  NABLA_CHECK(split_size > 0, "split: split_size must be positive, got ", split_size);
  int d = wrap_dim(dim, a.dim(), "split");
  std::vector<int64_t> sizes;
  for (int64_t s = 0; s < a.shape()[d]; s += split_size)
    sizes.push_back(std::min(split_size, a.shape()[d] - s));
  return split(a, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& a, int64_t chunks, int64_t dim) {
  NABLA_CHECK(chunks > 0, "chunk: number of chunks must be positive, got ", chunks);
  int d = wrap_dim(dim, a.dim(), "chunk");
  int64_t n = a.shape()[d];
  return split(a, std::max<int64_t>(1, (n + chunks - 1) / chunks), d);
}

Tensor pad(const Tensor& a, const std::vector<int64_t>& pads, double value) {
  NABLA_CHECK(pads.size() % 2 == 0 && static_cast<int>(pads.size()) <= 2 * a.dim(),
              "pad: expected an even number of ", "pads, at most 2 per dim (", 2 * a.dim(), " for shape ",
              a.shape(), "), got ", pads.size());
  Attrs at;
  at.f[0] = value;
  for (size_t k = 0; k < pads.size(); k += 2) {
    int d = a.dim() - 1 - static_cast<int>(k / 2);
    NABLA_CHECK(pads[k] >= 0 && pads[k + 1] >= 0, "pad: negative padding is not supported, got ", pads[k],
                ", ", pads[k + 1]);
    at.i[2 * d] = pads[k];
    at.i[2 * d + 1] = pads[k + 1];
  }
  return dispatch1(OpId::pad, {a}, at);
}

}  // namespace nabla
