// Writing whole files safely: data goes to a temporary file in the same folder, is fsync'ed,
// then renamed over the target, so a crash leaves either the old file or the new one.
//   nabla::io::write_file_atomic("out.txt", bytes);
//   nabla::io::AtomicFileWriter w("big.bin");   // streams without holding the file in memory
//   w.write(ptr, n); ...; w.commit();           // not committed -> the temp file is removed
#pragma once
#include <cstddef>
#include <string>

namespace nabla::io {

/// Replaces `path` with `bytes` atomically (temp file + fsync + rename + fsync of the folder).
void write_file_atomic(const std::string& path, const std::string& bytes);
/// Reads a whole file; throws nabla::Error naming the path if it cannot.
std::string read_file(const std::string& path);

/// Streams a file into `<path>.tmp.<pid>.<n>`; commit() fsyncs it, renames it over `path` and
/// fsyncs the folder. Destroyed without commit() (an exception mid-write), the temp file is removed
/// and `path` is untouched. A process killed mid-write leaves the old `path` intact (and may leave
/// the temp file behind).
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// Appends bytes; throws nabla::Error naming the file on failure (disk full, ...).
  void write(const void* data, size_t n);
  /// Makes the file durable and visible under its final name.
  void commit();

 private:
  [[noreturn]] void fail(const char* what, int err);
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace nabla::io
