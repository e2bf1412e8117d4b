// expect_close(got, want, what, tol): shapes equal and values within tol (absolute and relative,
// compared in float64), printing both tensors on failure. For tests that compare a module's results
// with stored PyTorch fixtures.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "nabla/nabla.h"

namespace nabla::testing {

inline void expect_close(const Tensor& got, const Tensor& want, const std::string& what, double tol = 1e-5) {
  ASSERT_TRUE(got.defined()) << what << " is undefined";
  ASSERT_EQ(got.shape(), want.shape()) << what;
  EXPECT_TRUE(allclose(got.to(kFloat64), want.to(kFloat64), tol, tol))
      << what << "\ngot  " << got << "\nwant " << want;
}

}  // namespace nabla::testing
