// The op table (OpInfo-style): one entry per op case. Each entry names a fixture folder written
// by tests/fixtures/gen.py (PyTorch 1.13 reference values) and the nabla call that must
// reproduce it. tests/ops/op_db_test.cpp loops over every entry: forward, gradients,
// non-contiguous inputs, float64 gradcheck.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "nabla/nabla.h"

namespace nabla::testing {

using Inputs = std::vector<Tensor>;
using Outputs = std::vector<Tensor>;

struct CaseOptions {
  double rtol = 1e-5;
  double atol = 1e-6;
  bool grad = true;           // compare gradients with the fixture (if it has them)
  bool gradcheck = true;      // finite-difference check in float64
  bool noncontiguous = true;  // also run with non-contiguous copies of the inputs
  double grad_rtol = 1e-4;
  double grad_atol = 1e-5;
};

struct OpCase {
  std::string name;  // tests/fixtures/ops/<name>/
  std::function<Outputs(const Inputs&)> fn;
  CaseOptions opt;
};

/// All registered cases.
std::vector<OpCase>& op_db();
inline void add_case(OpCase c) { op_db().push_back(std::move(c)); }

/// Loads tests/fixtures/ops/<case>/<file>.npy.
Tensor fixture(const std::string& case_name, const std::string& file);
bool fixture_exists(const std::string& case_name, const std::string& file);

/// Registers a block of cases at start-up: NABLA_OP_CASES(elementwise) { add_case({...}); }
#define NABLA_OP_CASES(family)                                  \
  static void nabla_op_cases_##family();                        \
  static const bool nabla_op_cases_##family##_registered = [] { \
    nabla_op_cases_##family();                                  \
    return true;                                                \
  }();                                                          \
  static void nabla_op_cases_##family()

/// EXPECT that `a` and `b` have equal shapes and are close (prints the worst element).
::testing::AssertionResult tensors_close(const Tensor& a, const Tensor& b, double rtol, double atol);

}  // namespace nabla::testing
