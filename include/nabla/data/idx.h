// IDX files (the MNIST format): a tiny header (magic, element type, dims) then raw C-order data.
// Plain files and gzip-compressed files (detected by their content, not their name) are both read.
//   auto images = nabla::data::read_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
//   images.shape();   // [60000, 28, 28], uint8
#pragma once
#include <cstddef>
#include <string>

#include "nabla/tensor.h"

namespace nabla::data {

/// Reads an IDX file into a tensor shaped like the file's dims. Element types: ubyte -> uint8,
/// int32 -> int32, float -> float32, double -> float64; signed byte and int16 widen to int32
/// (nabla has no int8/int16). Multi-byte elements are big-endian on disk. Every problem (missing
/// file, wrong magic, unknown type code, bad dim count, size overflow, truncated or oversized data,
/// corrupt gzip stream) throws nabla::Error naming the file; the declared size is checked against
/// the data actually present before the tensor is allocated.
Tensor read_idx(const std::string& path);

/// Parses IDX bytes already in memory (uncompressed); `what` names the source in errors.
Tensor parse_idx(const void* data, size_t size, const std::string& what);

}  // namespace nabla::data
