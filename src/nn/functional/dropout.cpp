// nabla::F::dropout as a composite: one uniform draw per element, a scaled 0/(1/(1-p)) mask, one
// multiply (whose VJP multiplies the gradient by the same mask).
#include "nabla/nn/functional/dropout.h"

#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla::F {

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  NABLA_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got ", p);
  if (!training || p == 0.0 || x.numel() == 0) return x;
  NABLA_CHECK(is_floating(x.dtype()), "dropout: expected a floating point input, got ", x.dtype());
  // p == 1 drops everything; multiplying (rather than returning zeros) keeps the graph connected.
  if (p == 1.0) return x * scalar_tensor(0.0);
  const double keep = 1.0 - p;
  // Draws in float32 at least (a float16 uniform is too coarse for small p).
  DType draw = x.dtype() == kFloat64 ? kFloat64 : kFloat32;
  Tensor u = rand(x.shape(), TensorOptions(draw, x.device()), gen);
  Tensor mask = where(u < Scalar(keep), scalar_tensor(1.0 / keep), scalar_tensor(0.0)).to(x.dtype());
  return x * mask;
}

}  // namespace nabla::F
