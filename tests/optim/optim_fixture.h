// Shared helpers for the optimizer tests: fixtures written by tests/fixtures/optim/gen_optim.py.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "nabla/creation.h"
#include "nabla/io/npy.h"
#include "nabla/tensor.h"

namespace nabla::optim::testing {

inline Tensor load_fixture(const std::string& name) {
  return io::load_npy(std::string(NABLA_FIXTURE_DIR) + "/optim/optim/" + name + ".npy");
}

/// Largest |a - b| over all elements (compared in float64).
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

/// True when both tensors hold exactly the same values.
inline bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && a.to_vector<double>() == b.to_vector<double>();
}

}  // namespace nabla::optim::testing
