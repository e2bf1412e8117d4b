#include "nabla/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "nabla/error.h"

namespace nabla::io {
namespace {

// pid + a counter: two threads (or two writers in one process) saving the same path never share
// a temporary file.
std::string temp_name(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path), tmp_(temp_name(path)) {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  NABLA_CHECK(fd_ >= 0, "cannot write ", path_, ": ", std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  ::unlink(tmp_.c_str());
}

void AtomicFileWriter::fail(const char* what, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  detail::throw_error("cannot write ", path_, ": ", what, std::strerror(err));
}

void AtomicFileWriter::write(const void* data, size_t n) {
  NABLA_CHECK(fd_ >= 0 && !committed_, "cannot write ", path_, ": the writer is closed");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("", w < 0 ? errno : EIO);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFileWriter::commit() {
  NABLA_CHECK(fd_ >= 0 && !committed_, "cannot write ", path_, ": the writer is closed");
  if (::fsync(fd_) != 0) fail("fsync failed: ", errno);
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) fail("close failed: ", errno);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("rename failed: ", errno);
  committed_ = true;
  std::string dir = path_.find('/') == std::string::npos ? "." : path_.substr(0, path_.rfind('/') + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {  // make the rename itself durable
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  AtomicFileWriter w(path);
  w.write(bytes.data(), bytes.size());
  w.commit();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  NABLA_CHECK(f.good(), "cannot open ", path, ": ", std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace nabla::io
