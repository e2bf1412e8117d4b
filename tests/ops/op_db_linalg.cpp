// op_db entries for the linalg family (fixtures: tests/fixtures/cases_linalg.py).
#include "support/op_db.h"

namespace nabla::testing {

NABLA_OP_CASES(linalg) {
  auto mat = [](const Inputs& x) -> Outputs { return {matmul(x[0], x[1])}; };
  for (const char* name :
       {"matmul_2d", "matmul_3d", "matmul_batch_broadcast", "matmul_3d_2d", "matmul_2d_3d", "matmul_1d_1d",
        "matmul_1d_2d", "matmul_2d_1d", "matmul_1d_3d", "matmul_3d_1d", "matmul_f64", "matmul_empty_k"})
    add_case({name, mat, {}});
  add_case({"matmul_int64", mat, {.rtol = 0, .atol = 0}});
  add_case({"matmul_transposed", [](const Inputs& x) -> Outputs { return {x[0].t().matmul(x[1].t())}; }, {}});
  add_case({"matmul_batch_transposed",
            [](const Inputs& x) -> Outputs { return {matmul(x[0].transpose(-1, -2), x[1])}; },
            {}});
  add_case({"mm_basic", [](const Inputs& x) -> Outputs { return {mm(x[0], x[1])}; }, {}});
  add_case({"bmm_basic", [](const Inputs& x) -> Outputs { return {bmm(x[0], x[1])}; }, {}});
  auto lin = [](const Inputs& x) -> Outputs { return {linear(x[0], x[1], x.size() > 2 ? x[2] : Tensor())}; };
  for (const char* name : {"linear_bias", "linear_nobias", "linear_3d", "linear_1d"})
    add_case({name, lin, {}});
}

}  // namespace nabla::testing
