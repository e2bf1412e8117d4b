// ImageFolder: scans root/<class>/** for PNG files in torchvision's order.
#include "nabla/data/datasets/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "nabla/creation.h"

namespace nabla::data::datasets {
namespace fs = std::filesystem;
namespace {

bool is_png(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".png";
}

}  // namespace

ImageFolder::ImageFolder(const std::string& root, ImageFolderOptions options)
    : root_(root), opt_(std::move(options)) {
  std::error_code ec;
  NABLA_CHECK(fs::is_directory(root, ec), "ImageFolder: '", root, "' is not a directory");
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec)) classes_.push_back(e.path().filename().string());
  NABLA_CHECK(!ec, "ImageFolder: cannot list '", root, "': ", ec.message());
  std::sort(classes_.begin(), classes_.end());  // byte order, like Python's sorted()
  NABLA_CHECK(!classes_.empty(), "ImageFolder: couldn't find any class folder in '", root, "'");
  std::string empty_classes;
  for (size_t k = 0; k < classes_.size(); ++k) {
    // Like torchvision's sorted(os.walk(...)): directories in path order, files sorted in each.
    std::map<std::string, std::vector<std::string>> by_dir;
    fs::path dir = fs::path(root) / classes_[k];
    by_dir[dir.string()];
    auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec) && is_png(it->path()))
        by_dir[it->path().parent_path().string()].push_back(it->path().filename().string());
    NABLA_CHECK(!ec, "ImageFolder: cannot list '", dir.string(), "': ", ec.message());
    size_t before = samples_.size();
    for (auto& [d, files] : by_dir) {
      std::sort(files.begin(), files.end());
      for (const auto& name : files) samples_.push_back({(fs::path(d) / name).string(), int64_t(k)});
    }
    if (samples_.size() == before) empty_classes += (empty_classes.empty() ? "'" : ", '") + classes_[k] + "'";
  }
  NABLA_CHECK(empty_classes.empty(), "ImageFolder: found no .png file for the class(es) ", empty_classes,
              " in '", root, "'");
}

Example ImageFolder::get(int64_t i) const {
  NABLA_CHECK(i >= 0 && i < size(), "ImageFolder: index ", i, " is out of range for a dataset of size ",
              size());
  const Sample& s = samples_[i];
  Tensor img = read_png(s.path, opt_.mode);
  Tensor label = full({}, s.label, kInt64);
  return {opt_.transform ? opt_.transform(img) : img, label};
}

}  // namespace nabla::data::datasets
