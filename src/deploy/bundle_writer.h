// Atomic bundle directory: files go into a temporary folder, commit() puts it in place in one
// step (rename, or an atomic swap with an existing bundle). See bundle_writer.cpp for why.
#pragma once
#include <string>

namespace nabla::deploy {

class BundleDirWriter {
 public:
  explicit BundleDirWriter(const std::string& dir);
  /// Without commit(): the temporary folder is removed and `dir` is untouched.
  ~BundleDirWriter();
  BundleDirWriter(const BundleDirWriter&) = delete;
  BundleDirWriter& operator=(const BundleDirWriter&) = delete;
  /// Where to write file `name` (inside the temporary folder).
  std::string file(const std::string& name) const;
  /// The temporary folder itself (the bundle as it will be, before commit()).
  const std::string& temp_dir() const { return tmp_; }
  void commit();

 private:
  std::string dir_, tmp_;
  bool committed_ = false;
};

}  // namespace nabla::deploy
