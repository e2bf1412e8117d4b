// src/ops/optim/update_math.h with the plain float32 formulas (sqrt and divide on the divider), as
// machines without AVX-512 run it: the same checks as update_math_test.cpp (update_math_checks.h).
// NABLA_OPTIM_NO_SIMD puts this file's copies in their own inline namespace (optim_cpu::plain), so
// they never replace the library's.
#define NABLA_OPTIM_NO_SIMD
#define UPDATE_MATH_SUITE UpdateMathPlain
#include "optim/update_math_checks.h"

namespace nabla::ops::optim_cpu {
namespace {

TEST(UpdateMathPlain, UsesThePlainFormulas) { EXPECT_STREQ(simd::isa_name(), "plain"); }

}  // namespace
}  // namespace nabla::ops::optim_cpu
