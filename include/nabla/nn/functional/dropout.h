// nabla::F::dropout — zeroes elements at random while training and rescales the survivors, so the
// expected value is unchanged; the identity in evaluation.
//   auto h = nabla::F::dropout(x, 0.5, model.is_training());
//   nabla::Generator g(7);
//   auto same = nabla::F::dropout(x, 0.2, true, &g);   // a reproducible mask
#pragma once
#include "nabla/generator.h"
#include "nabla/tensor.h"

namespace nabla::F {

/// Zeroes each element with probability p (mask from `gen`, the default generator when null) and
/// scales the rest by 1/(1-p). Returns x itself when !training or p == 0; p == 1 gives zeros.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

}  // namespace nabla::F
