// op_db entries for the index family (fixtures: tests/fixtures/cases_index.py).
#include "support/op_db.h"

namespace nabla::testing {

NABLA_OP_CASES(index) {
  add_case({"gather_dim1", [](const Inputs& x) -> Outputs { return {gather(x[0], 1, x[1])}; }});
  add_case({"gather_dim0_small_index", [](const Inputs& x) -> Outputs { return {gather(x[0], 0, x[1])}; }});
  add_case({"gather_3d_neg_dim", [](const Inputs& x) -> Outputs { return {gather(x[0], -1, x[1])}; }});
  add_case(
      {"scatter_add_dim0", [](const Inputs& x) -> Outputs { return {scatter_add(x[0], 0, x[1], x[2])}; }});
  add_case({"scatter_add_dim1_small_index",
            [](const Inputs& x) -> Outputs { return {scatter_add(x[0], 1, x[1], x[2])}; }});
  add_case({"index_select_dim0", [](const Inputs& x) -> Outputs { return {index_select(x[0], 0, x[1])}; }});
  add_case(
      {"index_select_dim1_3d", [](const Inputs& x) -> Outputs { return {index_select(x[0], 1, x[1])}; }});
  add_case({"index_add_dim0", [](const Inputs& x) -> Outputs { return {index_add(x[0], 0, x[1], x[2])}; }});
  add_case({"index_add_dim1_alpha",
            [](const Inputs& x) -> Outputs { return {index_add(x[0], 1, x[1], x[2], 2.5)}; }});
  add_case({"embedding_2d_indices", [](const Inputs& x) -> Outputs { return {embedding(x[0], x[1])}; }});
  add_case({"one_hot_infer", [](const Inputs& x) -> Outputs { return {one_hot(x[0])}; }});
  add_case({"one_hot_classes_2d", [](const Inputs& x) -> Outputs { return {one_hot(x[0], 5)}; }});
  add_case(
      {"masked_fill_same_shape", [](const Inputs& x) -> Outputs { return {masked_fill(x[0], x[1], -1.5)}; }});
  add_case(
      {"masked_fill_broadcast", [](const Inputs& x) -> Outputs { return {masked_fill(x[0], x[1], 2.0)}; }});
  add_case({"tril_default", [](const Inputs& x) -> Outputs { return {tril(x[0])}; }});
  add_case({"tril_neg_diag", [](const Inputs& x) -> Outputs { return {tril(x[0], -1)}; }});
  add_case({"triu_batched_diag1", [](const Inputs& x) -> Outputs { return {triu(x[0], 1)}; }});
  add_case({"triu_neg_diag_tall", [](const Inputs& x) -> Outputs { return {triu(x[0], -2)}; }});
}

}  // namespace nabla::testing
