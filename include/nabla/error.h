// nabla::Error — the one exception type for user errors.
//
// Messages name the op or layer first, then what was expected and what was received:
//   matmul: shapes [32, 784] and [748, 64] cannot be multiplied (784 != 748)
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace nabla {

/// Thrown for every user error (bad shapes, dtypes, devices, indices, files).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

namespace detail {
template <typename... Args>
[[noreturn]] void throw_error(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  throw Error(os.str());
}
}  // namespace detail
}  // namespace nabla

/// NABLA_CHECK(cond, parts...): throws nabla::Error built from parts when cond is false.
/// The message is only formatted on failure, so checks are cheap on the success path.
#define NABLA_CHECK(cond, ...)                                                   \
  do {                                                                           \
    if (__builtin_expect(!(cond), 0)) ::nabla::detail::throw_error(__VA_ARGS__); \
  } while (0)
