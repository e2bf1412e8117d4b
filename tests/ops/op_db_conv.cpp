// op_db entries for the conv family (fixtures: tests/fixtures/cases_conv.py).
#include "ops/registry.h"
#include "support/op_db.h"

namespace nabla::testing {

NABLA_OP_CASES(conv) {
  auto conv = [](Conv2dOptions o) {
    return
        [o](const Inputs& x) -> Outputs { return {conv2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), o)}; };
  };
  add_case({"conv2d_basic", conv({}), {}});
  add_case({"conv2d_nobias", conv({}), {}});
  add_case({"conv2d_stride_pad", conv({.stride = {2, 2}, .padding = {1, 1}}), {}});
  add_case({"conv2d_dilation", conv({.padding = {2, 2}, .dilation = {2, 2}}), {}});
  add_case({"conv2d_groups", conv({.padding = {1, 1}, .groups = 2}), {}});
  add_case({"conv2d_depthwise", conv({.stride = {2, 2}, .groups = 4}), {}});
  add_case({"conv2d_1x1", conv({}), {}});
  add_case({"conv2d_asym", conv({.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}}), {}});
  add_case({"conv2d_unbatched", conv({.padding = {1, 1}}), {}});

  auto maxp = [](Pool2dOptions o) {
    return [o](const Inputs& x) -> Outputs { return {max_pool2d(x[0], o)}; };
  };
  add_case({"max_pool2d_basic", maxp({}), {}});
  add_case({"max_pool2d_odd_pad", maxp({.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}), {}});
  add_case({"max_pool2d_overlap", maxp({.kernel = {3, 3}, .stride = {1, 1}}), {}});
  add_case({"max_pool2d_rect", maxp({.kernel = {2, 3}, .stride = {1, 2}, .padding = {1, 1}}), {}});
  // The primitive's second output: int64 argmax index within each plane, as torch's return_indices.
  add_case({"max_pool2d_indices",
            [](const Inputs& x) -> Outputs {
              ops::Attrs a;
              int64_t v[6] = {3, 3, 2, 2, 1, 1};
              for (int i = 0; i < 6; ++i) a.i[i] = v[i];
              Tensor out[2];
              ops::dispatch(ops::OpId::max_pool2d, &x[0], 1, a, out);
              return {out[0], out[1]};
            },
            {.grad = false, .gradcheck = false}});

  auto relu_maxp = [](Pool2dOptions o) {
    return [o](const Inputs& x) -> Outputs { return {relu_max_pool2d(x[0], o)}; };
  };
  add_case({"relu_max_pool2d_basic", relu_maxp({}), {}});
  add_case({"relu_max_pool2d_wide", relu_maxp({}), {}});
  add_case({"relu_max_pool2d_pad", relu_maxp({.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}), {}});

  auto conv_relu_maxp = [](Conv2dOptions c, Pool2dOptions p) {
    return [c, p](const Inputs& x) -> Outputs {
      return {conv2d_relu_max_pool2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), c, p)};
    };
  };
  add_case({"conv2d_relu_max_pool2d_basic", conv_relu_maxp({.padding = {1, 1}}, {}), {}});
  add_case({"conv2d_relu_max_pool2d_odd", conv_relu_maxp({.padding = {1, 1}}, {}), {}});
  add_case({"conv2d_relu_max_pool2d_pool3",
            conv_relu_maxp({.stride = {2, 2}}, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}), {}});

  auto avgp = [](Pool2dOptions o) {
    return [o](const Inputs& x) -> Outputs { return {avg_pool2d(x[0], o)}; };
  };
  add_case({"avg_pool2d_basic", avgp({}), {}});
  add_case({"avg_pool2d_pad", avgp({.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}), {}});
  add_case({"avg_pool2d_rect", avgp({.kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 1}}), {}});

  auto adapt = [](int64_t h, int64_t w) {
    return [h, w](const Inputs& x) -> Outputs { return {adaptive_avg_pool2d(x[0], h, w)}; };
  };
  add_case({"adaptive_avg_pool2d_down", adapt(3, 2), {}});
  add_case({"adaptive_avg_pool2d_up", adapt(5, 4), {}});
  add_case({"adaptive_avg_pool2d_global", adapt(1, 1), {}});
}

}  // namespace nabla::testing
