// op_db entries for the movement family (fixtures: tests/fixtures/cases_movement.py).
#include "support/op_db.h"

namespace nabla::testing {

NABLA_OP_CASES(movement) {
  add_case({"view_flatten", [](const Inputs& x) -> Outputs { return {x[0].reshape({6, 4})}; }});
  add_case({"permute_3d", [](const Inputs& x) -> Outputs { return {x[0].permute({2, 0, 1}) * 1.0}; }});
  add_case({"transpose_2d", [](const Inputs& x) -> Outputs { return {x[0].t() * 1.0}; }});
  add_case({"expand_row", [](const Inputs& x) -> Outputs { return {x[0].expand({4, 3}) * 1.0}; }});
  add_case({"slice_step", [](const Inputs& x) -> Outputs {
              return {x[0].index({{1, 5, 2}, {0, INT64_MAX, 3}}) * 1.0};
            }});
  add_case({"select_dim1", [](const Inputs& x) -> Outputs { return {x[0].select(1, 2) * 1.0}; }});
  add_case({"narrow_neg", [](const Inputs& x) -> Outputs { return {x[0].narrow(-1, 1, 2) * 1.0}; }});
  add_case(
      {"squeeze_unsqueeze", [](const Inputs& x) -> Outputs { return {x[0].squeeze(1).unsqueeze(0) * 1.0}; }});
  add_case({"flatten_mid", [](const Inputs& x) -> Outputs { return {x[0].flatten(1, 2) * 1.0}; }});
  add_case({"cat_dim0", [](const Inputs& x) -> Outputs { return {cat({x[0], x[1]}, 0)}; }});
  add_case({"cat_dim1_three", [](const Inputs& x) -> Outputs { return {cat({x[0], x[1], x[2]}, 1)}; }});
  add_case({"stack_dim1", [](const Inputs& x) -> Outputs { return {stack({x[0], x[1]}, 1)}; }});
  add_case({"split_pieces", [](const Inputs& x) -> Outputs {
              Outputs o;
              for (auto& p : split(x[0], 2, 0)) o.push_back(p * 1.0);
              return o;
            }});
  add_case({"chunk_three", [](const Inputs& x) -> Outputs {
              Outputs o;
              for (auto& p : chunk(x[0], 3, 1)) o.push_back(p * 1.0);
              return o;
            }});
  add_case({"pad_2d", [](const Inputs& x) -> Outputs { return {pad(x[0], {1, 2, 0, 1}, 0.5)}; }});
  add_case({"clone_cast_f64", [](const Inputs& x) -> Outputs { return {x[0].to(kFloat64)}; }});
  add_case({"cast_int_to_float", [](const Inputs& x) -> Outputs { return {x[0].to(kFloat32)}; }});
}

}  // namespace nabla::testing
