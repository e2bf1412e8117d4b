// How many inputs each registry op takes. A bundle is untrusted input: a node with too few inputs
// would make a shape rule or kernel read past its argument array, so the loader checks arity
// before anything runs. The switch has no default and -Wswitch is an error in this file, so an op
// added to op_list.def without a line here stops the build.
#include "deploy/symbolic_graph.h"

#pragma GCC diagnostic error "-Wswitch"

namespace nabla::deploy {

std::pair<int, int> op_arity(ops::OpId op) {
  using O = ops::OpId;
  switch (op) {
    case O::view:
    case O::permute:
    case O::expand:
    case O::slice:
    case O::select:
    case O::squeeze:
    case O::unsqueeze:
    case O::copy:
    case O::slice_backward:
    case O::pad:
      return {1, 1};
    case O::cat:
      return {1, -1};
    case O::fused_elementwise:
      return {1, 8};  // ops/elementwise/fused.h: kMaxInputs
    case O::add:
    case O::sub:
    case O::mul:
    case O::div:
    case O::pow:
    case O::maximum:
    case O::minimum:
    case O::eq:
    case O::ne:
    case O::lt:
    case O::le:
    case O::gt:
    case O::ge:
      return {2, 2};
    case O::where:
    case O::softmax_xent:
      return {3, 3};
    case O::neg:
    case O::exp:
    case O::log:
    case O::sqrt:
    case O::rsqrt:
    case O::abs:
    case O::sign:
    case O::pow_scalar:
    case O::clamp:
    case O::logical_not:
    case O::relu:
    case O::leaky_relu:
    case O::elu:
    case O::gelu:
    case O::sigmoid:
    case O::tanh:
    case O::softplus:
    case O::fill:
    case O::erf:
      return {1, 1};
    case O::sum:
    case O::prod:
    case O::amax:
    case O::amin:
    case O::max_dim:
    case O::min_dim:
    case O::argmax:
    case O::argmin:
    case O::softmax:
    case O::log_softmax:
      return {1, 1};
    case O::gather:
    case O::index_select:
      return {2, 2};
    case O::scatter_add:
    case O::index_add:
      return {3, 3};
    case O::matmul:
      return {2, 2};
    case O::linear:
    case O::conv2d:
    case O::conv2d_relu_max_pool2d:
      return {2, 3};
    case O::conv2d_input_grad:
    case O::conv2d_weight_grad:
    case O::conv2d_weight_bias_grad:
      return {2, 2};
    case O::max_pool2d_grad:
      return {2, 3};  // (grad, indices[, pooled output of relu_max_pool2d])
    case O::pool_grad_conv2d_weight_bias_grad:
      return {3, 4};  // (x, grad, indices[, pooled output])
    case O::pool_grad_conv2d_backward:
      return {4, 5};  // (x, w, grad, indices[, pooled output])
    case O::max_pool2d:
    case O::relu_max_pool2d:
    case O::avg_pool2d:
    case O::avg_pool2d_grad:
    case O::adaptive_avg_pool2d:
    case O::adaptive_avg_pool2d_grad:
      return {1, 1};
    case O::adam_step:
      return {6, 6};
    case O::sgd_step:
      return {4, 4};
    case O::rmsprop_step:
      return {6, 6};
    case O::weight_grad_adam_step:
      return {7, 7};
    case O::rand_uniform:
      return {0, 0};
    case O::kCount:
      break;
  }
  return {0, -2};  // not an op: nothing matches
}

}  // namespace nabla::deploy
