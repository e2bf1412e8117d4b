// Internal: transforms that Compose runs as one pass when it sees them side by side.
#pragma once
#include <vector>

#include "nabla/tensor.h"

namespace nabla::data::transforms::detail {

/// ToTensor then Normalize(mean, std) on a uint8 image (batched: a batch), in one pass through a
/// per-channel table; bit-identical to the two steps run one after the other, same errors.
Tensor to_tensor_normalize(const Tensor& x, bool batched, const std::vector<double>& mean,
                           const std::vector<double>& std);

}  // namespace nabla::data::transforms::detail
