// keras::utils: to_categorical (one-hot) and normalize (unit Lp norm), as in keras.utils.
//   auto y = nabla::keras::utils::to_categorical(labels, 10);     // int64 [N] -> float [N, 10]
//   auto x = nabla::keras::utils::normalize(features);             // each row scaled to L2 norm 1
#pragma once
#include <cstdint>

#include "nabla/tensor.h"

namespace nabla::keras::utils {

/// One-hot float32 rows for integer class labels (any shape; a trailing dim of 1 is dropped, as
/// in Keras). num_classes = -1 uses max(label) + 1. Labels outside [0, num_classes) are errors.
Tensor to_categorical(const Tensor& y, int64_t num_classes = -1);
/// x / ||x||_order along `axis` (zero norms leave zeros), Keras's normalize.
Tensor normalize(const Tensor& x, int64_t axis = -1, double order = 2);

}  // namespace nabla::keras::utils
