// Writing a bundle directory atomically.
//
// Choice: the whole bundle is written into a fresh temporary directory next to the target (each
// file fsync'ed), then that directory takes the target's name in one step: rename(2) when the
// target does not exist, renameat2(RENAME_EXCHANGE) when it does (Linux swaps the two names
// atomically; the old bundle then sits in the temporary name and is deleted). A process killed at
// any point leaves either the complete old bundle or the complete new one under `dir` (plus at most
// a stray "<dir>.tmp.*" folder), never a mix: per-file atomic writes plus a manifest written last
// would still let a reader pair a new graph.json with old weights between two renames.
#include "deploy/bundle_writer.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "nabla/error.h"
#include "nabla/io/atomic_file.h"

namespace nabla::deploy {
namespace {

void fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string parent_of(const std::string& path) {
  std::filesystem::path p = std::filesystem::absolute(path).parent_path();
  return p.string();
}

}  // namespace

BundleDirWriter::BundleDirWriter(const std::string& dir) : dir_(dir) {
  NABLA_CHECK(!dir.empty(), "export: empty bundle directory name");
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  static std::atomic<int> counter{0};
  tmp_ = dir_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  std::error_code ec;
  std::filesystem::remove_all(tmp_, ec);
  NABLA_CHECK(::mkdir(tmp_.c_str(), 0755) == 0, "export: ", dir_, ": cannot create the temporary folder ",
              tmp_, ": ", std::strerror(errno));
}

BundleDirWriter::~BundleDirWriter() {
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_, ec);
  }
}

std::string BundleDirWriter::file(const std::string& name) const { return tmp_ + "/" + name; }

void BundleDirWriter::commit() {
  fsync_dir(tmp_);
  struct stat st;
  if (::stat(dir_.c_str(), &st) == 0) {
    NABLA_CHECK(S_ISDIR(st.st_mode), "export: ", dir_, " exists and is not a directory");
    NABLA_CHECK(::renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, dir_.c_str(), RENAME_EXCHANGE) == 0,
                "export: ", dir_, ": cannot swap in the new bundle: ", std::strerror(errno));
    committed_ = true;
    fsync_dir(parent_of(dir_));
    std::error_code ec;
    std::filesystem::remove_all(tmp_, ec);  // now the old bundle
  } else {
    NABLA_CHECK(::rename(tmp_.c_str(), dir_.c_str()) == 0, "export: ", dir_,
                ": cannot rename the bundle into place: ", std::strerror(errno));
    committed_ = true;
    fsync_dir(parent_of(dir_));
  }
}

}  // namespace nabla::deploy
