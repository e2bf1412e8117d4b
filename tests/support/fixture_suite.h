// Fixture-driven checks for library functions (nn losses, normalisation, ...) whose PyTorch
// references live in tests/fixtures/<dir>/<case>/ with the op_db file layout (in*, out*, gout*,
// grad*; see tests/fixtures/fixture_lib.py). One call runs the same checks as the op table:
// forward, gradients of the inputs that have grad*.npy, non-contiguous inputs, float64 gradcheck.
//   check_fixture_case("nn/losses", {"mse_mean", [](const Inputs& x) -> Outputs {
//     return {F::mse_loss(x[0], x[1])}; }});
#pragma once
#include "support/op_db.h"

namespace nabla::testing {

/// Loads tests/fixtures/<dir>/<case_name>/<file>.npy.
Tensor fixture_in(const std::string& dir, const std::string& case_name, const std::string& file);
bool fixture_in_exists(const std::string& dir, const std::string& case_name, const std::string& file);

/// Runs every check for one case (failures are reported through gtest). `gradcheck_outputs`
/// restricts the finite-difference check to these outputs (default: every output with a
/// gout*.npy), e.g. to leave out an output that depends on the inputs through state that
/// autograd does not track (batch-norm running statistics).
void check_fixture_case(const std::string& dir, const OpCase& c,
                        const std::vector<size_t>& gradcheck_outputs = {});

/// gtest prints a case by its name.
inline void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

}  // namespace nabla::testing
