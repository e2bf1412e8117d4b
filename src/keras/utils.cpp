// keras::utils::to_categorical and normalize.
#include "nabla/keras/utils.h"

#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla::keras::utils {

Tensor to_categorical(const Tensor& y, int64_t num_classes) {
  NABLA_CHECK(y.defined(), "to_categorical: got an undefined tensor");
  Tensor labels = y;
  if (labels.dim() > 1 && labels.size(-1) == 1) labels = labels.squeeze(-1);
  if (labels.dtype() != kInt64) {
    NABLA_CHECK(!labels.is_floating_point() ||
                    eq(labels, labels.to(kInt64).to(labels.dtype())).to(kInt64).min().item<int64_t>() == 1,
                "to_categorical: expected integer class labels, received non-integer values");
    labels = labels.to(kInt64);
  }
  if (labels.numel() > 0) {
    const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    NABLA_CHECK(lo >= 0, "to_categorical: expected labels >= 0, received ", lo);
    if (num_classes < 0) num_classes = hi + 1;
    NABLA_CHECK(hi < num_classes, "to_categorical: expected labels < num_classes = ", num_classes,
                ", received ", hi);
  }
  NABLA_CHECK(num_classes > 0, "to_categorical: num_classes must be positive (or -1), got ", num_classes);
  return one_hot(labels, num_classes).to(kFloat32);
}

Tensor normalize(const Tensor& x, int64_t axis, double order) {
  NABLA_CHECK(order > 0, "normalize: order must be positive, got ", order);
  Tensor norm =
      order == 2 ? (x * x).sum({axis}, true).sqrt() : x.abs().pow(order).sum({axis}, true).pow(1.0 / order);
  // Zero rows stay zero (Keras divides by the norm with zeros replaced by 1).
  Tensor safe = where(eq(norm, zeros_like(norm)), ones_like(norm), norm);
  return x / safe;
}

}  // namespace nabla::keras::utils
