// NumPy .npy files (format 1.0-3.0): read and write single tensors.
//   nabla::io::save_npy(t, "x.npy");          // atomic: temp file, fsync, rename
//   auto y = nabla::io::load_npy("x.npy");    // validated; bad files throw nabla::Error
#pragma once
#include <string>

#include "nabla/tensor.h"

namespace nabla::io {

/// Reads a .npy file (bool, uint8, int32, int64, float16, float32, float64; either byte order;
/// C or Fortran order). Never evaluates the header; rejects object dtypes, truncated data,
/// oversized headers and size overflows with a nabla::Error naming the file.
Tensor load_npy(const std::string& path);
/// Parses .npy bytes already in memory (`what` names the source in error messages).
Tensor parse_npy(const void* data, size_t size, const std::string& what);
/// Writes `t` as .npy format 1.0, C order, little-endian. bfloat16 is not representable in NumPy.
void save_npy(const Tensor& t, const std::string& path);

}  // namespace nabla::io
