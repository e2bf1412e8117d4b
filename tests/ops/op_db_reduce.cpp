// op_db entries of the reduction family (fixtures: tests/fixtures/cases_reduce.py).
#include "support/op_db.h"

namespace nabla::testing {

namespace {
Outputs vi(const ValuesIndices& r) { return {r.values, r.indices}; }
// Finite differences are meaningless at ties; the fixture still checks PyTorch's tie rule.
constexpr CaseOptions kTies{.gradcheck = false};
}  // namespace

NABLA_OP_CASES(reduce) {
  // sum
  add_case({"sum_all", [](const Inputs& x) -> Outputs { return {x[0].sum()}; }, {}});
  add_case({"sum_dim1", [](const Inputs& x) -> Outputs { return {sum(x[0], {1})}; }, {}});
  add_case({"sum_dims_neg_keepdim",
            [](const Inputs& x) -> Outputs {
              return {x[0].sum({-1, 0}, true)};
            },
            {}});
  // Sums with cancellation: the strided layout adds in another order (float32 rounding ~1e-6).
  add_case({"sum_dim0_wide", [](const Inputs& x) -> Outputs { return {sum(x[0], {0})}; }, {.atol = 1e-5}});
  add_case({"sum_int32_to_int64", [](const Inputs& x) -> Outputs { return {sum(x[0], {1})}; }, {}});
  add_case({"sum_bool", [](const Inputs& x) -> Outputs { return {sum(x[0], {0})}; }, {}});
  add_case({"sum_zero_size", [](const Inputs& x) -> Outputs { return {sum(x[0], {0})}; }, {}});
  add_case({"sum_float64_dims02", [](const Inputs& x) -> Outputs { return {sum(x[0], {0, 2})}; }, {}});
  // mean
  add_case({"mean_all", [](const Inputs& x) -> Outputs { return {x[0].mean()}; }, {}});
  add_case({"mean_dims_keepdim", [](const Inputs& x) -> Outputs { return {x[0].mean({0, 2}, true)}; }, {}});
  add_case({"mean_neg_dim", [](const Inputs& x) -> Outputs { return {mean(x[0], {-2})}; }, {}});
  // prod
  add_case({"prod_dim1", [](const Inputs& x) -> Outputs { return {prod(x[0], {1})}; }, {}});
  add_case({"prod_all", [](const Inputs& x) -> Outputs { return {prod(x[0])}; }, {}});
  add_case({"prod_keepdim_neg", [](const Inputs& x) -> Outputs { return {prod(x[0], {-1}, true)}; }, {}});
  add_case({"prod_with_zeros", [](const Inputs& x) -> Outputs { return {prod(x[0], {1})}; }, {}});
  add_case({"prod_int_to_int64", [](const Inputs& x) -> Outputs { return {prod(x[0], {0})}; }, {}});
  // amax / amin / max() / min()
  add_case({"amax_dims", [](const Inputs& x) -> Outputs { return {amax(x[0], {0, 2})}; }, {}});
  add_case({"amax_keepdim", [](const Inputs& x) -> Outputs { return {amax(x[0], {-1}, true)}; }, {}});
  add_case({"amin_dim0", [](const Inputs& x) -> Outputs { return {amin(x[0], {0})}; }, {}});
  add_case({"amax_ties", [](const Inputs& x) -> Outputs { return {amax(x[0], {1})}; }, kTies});
  add_case({"amin_ties_all", [](const Inputs& x) -> Outputs { return {amin(x[0])}; }, kTies});
  add_case({"amax_int", [](const Inputs& x) -> Outputs { return {amax(x[0], {1})}; }, {}});
  add_case({"max_all", [](const Inputs& x) -> Outputs { return {x[0].max()}; }, {}});
  add_case({"min_all", [](const Inputs& x) -> Outputs { return {x[0].min()}; }, {}});
  // max / min along a dim, argmax / argmin
  add_case({"max_dim1", [](const Inputs& x) -> Outputs { return vi(max(x[0], 1)); }, {}});
  add_case({"max_dim_keepdim", [](const Inputs& x) -> Outputs { return vi(max(x[0], -1, true)); }, {}});
  add_case({"min_dim0", [](const Inputs& x) -> Outputs { return vi(min(x[0], 0)); }, {}});
  add_case({"max_dim_ties_first_index", [](const Inputs& x) -> Outputs { return vi(max(x[0], 1)); }, kTies});
  add_case({"argmax_dim1", [](const Inputs& x) -> Outputs { return {x[0].argmax(1)}; }, {}});
  add_case({"argmin_keepdim", [](const Inputs& x) -> Outputs { return {argmin(x[0], 0, true)}; }, {}});
  // var / std / logsumexp
  add_case({"var_dim1", [](const Inputs& x) -> Outputs { return {var(x[0], {1})}; }, {}});
  add_case({"var_all_biased", [](const Inputs& x) -> Outputs { return {var(x[0], {}, 0)}; }, {}});
  add_case({"std_dims_keepdim",
            [](const Inputs& x) -> Outputs {
              return {nabla::std(x[0], {0, 2}, 1, true)};
            },
            {}});
  add_case({"logsumexp_dim1", [](const Inputs& x) -> Outputs { return {logsumexp(x[0], {1})}; }, {}});
  add_case({"logsumexp_large",
            [](const Inputs& x) -> Outputs {
              return {logsumexp(x[0], {0, 1}, true)};
            },
            {}});
  // softmax / log_softmax
  add_case({"softmax_last", [](const Inputs& x) -> Outputs { return {softmax(x[0], -1)}; }, {}});
  add_case({"softmax_dim0", [](const Inputs& x) -> Outputs { return {x[0].softmax(0)}; }, {}});
  add_case({"softmax_mid_3d", [](const Inputs& x) -> Outputs { return {softmax(x[0], 1)}; }, {}});
  add_case({"softmax_extreme", [](const Inputs& x) -> Outputs { return {softmax(x[0], -1)}; }, {}});
  add_case({"log_softmax_last", [](const Inputs& x) -> Outputs { return {log_softmax(x[0], -1)}; }, {}});
  add_case({"log_softmax_mid_3d", [](const Inputs& x) -> Outputs { return {x[0].log_softmax(1)}; }, {}});
  add_case({"log_softmax_extreme", [](const Inputs& x) -> Outputs { return {log_softmax(x[0], 1)}; }, {}});
  // losses
  add_case({"nll_loss_mean_ignore",
            [](const Inputs& x) -> Outputs { return {nll_loss(log_softmax(x[0], 1), x[1])}; },
            {}});
  add_case({"nll_loss_sum", [](const Inputs& x) -> Outputs { return {nll_loss(x[0], x[1], "sum")}; }, {}});
  add_case({"nll_loss_none", [](const Inputs& x) -> Outputs { return {nll_loss(x[0], x[1], "none")}; }, {}});
  add_case({"nll_loss_ignore_index1",
            [](const Inputs& x) -> Outputs { return {nll_loss(x[0], x[1], "mean", 1)}; },
            {}});
  add_case(
      {"cross_entropy_mean", [](const Inputs& x) -> Outputs { return {cross_entropy(x[0], x[1])}; }, {}});
  add_case({"cross_entropy_sum",
            [](const Inputs& x) -> Outputs { return {cross_entropy(x[0], x[1], "sum")}; },
            {}});
  add_case({"cross_entropy_none",
            [](const Inputs& x) -> Outputs { return {cross_entropy(x[0], x[1], "none")}; },
            {}});
  add_case({"cross_entropy_ignore_index1",
            [](const Inputs& x) -> Outputs { return {cross_entropy(x[0], x[1], "mean", 1)}; },
            {}});
  add_case(
      {"cross_entropy_spatial", [](const Inputs& x) -> Outputs { return {cross_entropy(x[0], x[1])}; }, {}});
}

}  // namespace nabla::testing
