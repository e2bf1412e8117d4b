// op_db entries that chain ops like small models do (fixtures: tests/fixtures/cases_composite.py).
#include "support/op_db.h"

namespace nabla::testing {

NABLA_OP_CASES(composite) {
  add_case({"mlp_cross_entropy", [](const Inputs& x) -> Outputs {
              auto h = relu(linear(x[0], x[1], x[2]));
              return {cross_entropy(linear(h, x[3], x[4]), x[5])};
            }});
  add_case({"cnn_small", [](const Inputs& x) -> Outputs {
              Conv2dOptions c;
              c.padding[0] = c.padding[1] = 1;
              auto h = max_pool2d(relu(conv2d(x[0], x[1], x[2], c)));
              return {linear(h.flatten(1), x[3], x[4]).log_softmax(1)};
            }});
  add_case({"softmax_attention", [](const Inputs& x) -> Outputs {
              return {matmul(softmax(matmul(x[0], x[1].transpose(-1, -2)) / 2.0, -1), x[2])};
            }});
  add_case({"layernorm_by_hand", [](const Inputs& x) -> Outputs {
              auto mu = mean(x[0], {-1}, true);
              auto v = var(x[0], {-1}, /*correction=*/0, true);
              return {(x[0] - mu) / sqrt(v + 1e-5) * x[1] + x[2]};
            }});
}

}  // namespace nabla::testing
