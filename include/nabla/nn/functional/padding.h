// nabla::F::pad with PyTorch's modes: "constant" (value), "reflect", "replicate", "circular".
//   auto y = nabla::F::pad(x, {1, 1, 2, 2}, "reflect");   // W by 1 each side, H by 2
// pads = {last_lo, last_hi, prev_lo, prev_hi, ...}, as torch.nn.functional.pad. The non-constant
// modes gather rows with index_select, so gradients flow back to the rows they copy (a padded
// border row adds its gradient to the row it mirrors). Conv layers use it for padding_mode.
#pragma once
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::F {

/// Pads the last pads.size() / 2 dims. "reflect" needs each pad < that dim's size (the edge is not
/// repeated), "circular" pad <= size, "replicate" a non-empty dim; otherwise nabla::Error.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, double value = 0.0);

}  // namespace nabla::F
