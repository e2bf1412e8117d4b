// Writing whole files safely: data goes to a temporary file in the same folder, is fsync'ed,
// then renamed over the target, so a crash leaves either the old file or the new one.
#pragma once
#include <string>

namespace nabla::io {

/// Replaces `path` with `bytes` atomically (temp file + fsync + rename + fsync of the folder).
void write_file_atomic(const std::string& path, const std::string& bytes);
/// Reads a whole file; throws nabla::Error naming the path if it cannot.
std::string read_file(const std::string& path);

}  // namespace nabla::io
