#include "support/op_db.h"

#include <sys/stat.h>

#include <cmath>
#include <sstream>

#include "nabla/io/npy.h"

namespace nabla::testing {

std::vector<OpCase>& op_db() {
  static std::vector<OpCase> db;
  return db;
}

static std::string fixture_path(const std::string& case_name, const std::string& file) {
  return std::string(NABLA_FIXTURE_DIR) + "/ops/" + case_name + "/" + file + ".npy";
}

bool fixture_exists(const std::string& case_name, const std::string& file) {
  struct stat st;
  return ::stat(fixture_path(case_name, file).c_str(), &st) == 0;
}

Tensor fixture(const std::string& case_name, const std::string& file) {
  return io::load_npy(fixture_path(case_name, file));
}

::testing::AssertionResult tensors_close(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (!a.defined() || !b.defined())
    return ::testing::AssertionFailure()
           << "undefined tensor (a " << a.defined() << ", b " << b.defined() << ")";
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << a.shape() << " vs " << b.shape();
  if (is_floating(a.dtype()) != is_floating(b.dtype()) || (a.dtype() == kBool) != (b.dtype() == kBool))
    return ::testing::AssertionFailure() << "dtypes differ: " << a.dtype() << " vs " << b.dtype();
  auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  double worst = 0;
  int64_t worst_i = -1;
  for (size_t i = 0; i < av.size(); ++i) {
    double x = av[i], y = bv[i];
    if (std::isnan(x) && std::isnan(y)) continue;
    if (std::isinf(x) && x == y) continue;
    double excess = std::fabs(x - y) - (atol + rtol * std::fabs(y));
    if (!(excess <= worst)) {  // also catches NaN
      worst = std::isnan(excess) ? INFINITY : excess;
      worst_i = static_cast<int64_t>(i);
    }
  }
  if (worst_i >= 0)
    return ::testing::AssertionFailure()
           << "element " << worst_i << " differs: " << av[worst_i] << " vs " << bv[worst_i] << " (rtol "
           << rtol << ", atol " << atol << ", shape " << a.shape() << ")";
  return ::testing::AssertionSuccess();
}

}  // namespace nabla::testing
