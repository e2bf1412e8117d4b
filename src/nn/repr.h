// Helpers to print layer settings exactly as PyTorch's extra_repr does.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nabla/nn/options.h"

namespace nabla::nn::repr {

/// Python's repr of a float: the shortest text that reads back exactly, always with a '.' or 'e'.
inline std::string py_float(double x) {
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}
inline const char* py_bool(bool b) { return b ? "True" : "False"; }
/// "(3, 3)" as Python prints a 2-tuple.
// (Built with += : g++ 12 gives a false -Wrestrict on "(" + std::to_string(...).)
inline std::string tuple2(const Size2& s) {
  std::string out = "(";
  out += std::to_string(s[0]);
  out += ", ";
  out += std::to_string(s[1]);
  return out += ")";
}
/// "(3,)" as Python prints a 1-tuple.
inline std::string tuple1(int64_t v) {
  std::string out = "(";
  out += std::to_string(v);
  return out += ",)";
}

}  // namespace nabla::nn::repr
