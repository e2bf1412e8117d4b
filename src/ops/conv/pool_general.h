// Internal: pooling options the window kernels do not take (ceil_mode, dilation,
// count_include_pad=false, divisor_override), built from the plain ops plus pad and slices, so the
// kernels and their fast paths stay as they are. The plain options never come here.
#pragma once
#include "nabla/ops.h"

namespace nabla::detail {

/// Whether `o` needs the general path (for max_pool2d when is_max, else avg_pool2d).
bool pool_needs_general(const Pool2dOptions& o, bool is_max);
Tensor max_pool2d_general(const Tensor& x, const Pool2dOptions& o);
/// The indices of max_pool2d_general's maxima (PyTorch's rule: first maximum of the window in
/// row-major order, a NaN wins), as h * W + w into each input plane.
Tensor max_pool2d_general_indices(const Tensor& x, const Pool2dOptions& o);
Tensor avg_pool2d_general(const Tensor& x, const Pool2dOptions& o);

}  // namespace nabla::detail
