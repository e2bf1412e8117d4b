// CSV reader: a small RFC 4180 subset (quotes, "" escapes, CR LF), every bad row reported with
// its 1-based line number so the user can go straight to it.
#include "nabla/data/datasets/csv.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "nabla/creation.h"

namespace nabla::data::datasets {
namespace {

struct Ctx {
  const std::string& path;
  int64_t line = 0;
  [[noreturn]] void fail(const std::string& problem) const {
    ::nabla::detail::throw_error("CSVDataset: ", path, " line ", line, ": ", problem);
  }
};

void split(const std::string& line, char delim, std::vector<std::string>& out, const Ctx& ctx) {
  out.clear();
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cur += ch;
      }
    } else if (ch == '"' && !was_quoted && cur.find_first_not_of(" \t") == std::string::npos) {
      quoted = was_quoted = true;
      cur.clear();
    } else if (ch == delim) {
      out.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += ch;
    }
  }
  if (quoted) ctx.fail("unterminated quoted field (quoted fields cannot span lines)");
  out.push_back(std::move(cur));
}

std::string_view trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string_view::npos ? std::string_view() : s.substr(a, b - a + 1);
}

bool parse_double(std::string_view s, double& v) {
  s = trim(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_int(std::string_view s, int64_t& v) {
  s = trim(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && p == s.data() + s.size()) return true;
  double d;  // "3.0" is still class 3
  if (parse_double(s, d) && d == static_cast<double>(static_cast<int64_t>(d))) {
    v = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

int64_t resolve(const Column& c, const std::vector<std::string>& names, const std::string& path,
                const char* what) {
  int64_t n = static_cast<int64_t>(names.size());
  if (const auto* name = std::get_if<std::string>(&c.key)) {
    auto it = std::find(names.begin(), names.end(), *name);
    if (it == names.end()) {
      std::string all;
      for (const auto& s : names) all += (all.empty() ? "'" : ", '") + s + "'";
      ::nabla::detail::throw_error("CSVDataset: ", path, ": ", what, " '", *name,
                                   "' is not in the header (columns: ", all, ")");
    }
    return it - names.begin();
  }
  int64_t i = std::get<int64_t>(c.key);
  int64_t j = i < 0 ? i + n : i;
  NABLA_CHECK(j >= 0 && j < n, "CSVDataset: ", path, ": ", what, " index ", i, " is out of range for ", n,
              " columns");
  return j;
}

}  // namespace

CSVDataset::CSVDataset(CSVOptions options) : opt_(std::move(options)) {
  const std::string& path = opt_.path;
  std::ifstream in(path, std::ios::binary);
  if (!in) ::nabla::detail::throw_error("CSVDataset: cannot open '", path, "': ", std::strerror(errno));
  Ctx ctx{path};
  std::string line;
  std::vector<std::string> fields, names;
  std::vector<int64_t> feat_cols;
  int64_t label_col = -1;
  bool label_is_string = false, configured = false;
  std::vector<float> feats;
  std::vector<int64_t> int_labels;
  std::vector<float> float_labels;
  std::vector<std::string> str_labels;
  int64_t rows = 0;

  // Picks label and feature columns, using the first data row to find the numeric ones.
  auto configure = [&](const std::vector<std::string>& first) {
    label_col = resolve(opt_.label_column, names, path, "label column");
    if (!opt_.feature_columns.empty()) {
      for (const auto& c : opt_.feature_columns)
        feat_cols.push_back(resolve(c, names, path, "feature column"));
    } else {
      double d;
      for (int64_t j = 0; j < int64_t(names.size()); ++j)
        if (j != label_col && parse_double(first[j], d)) feat_cols.push_back(j);
    }
    int64_t v;
    label_is_string = !opt_.regression && !parse_int(first[label_col], v);
    for (int64_t j : feat_cols) feature_names_.push_back(names[j]);
    configured = true;
  };

  while (std::getline(in, line)) {
    ++ctx.line;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    split(line, opt_.delimiter, fields, ctx);
    if (names.empty()) {
      if (opt_.has_header) {
        names = fields;
        for (auto& s : names) s = std::string(trim(s));
        continue;
      }
      for (size_t j = 0; j < fields.size(); ++j) names.push_back("column " + std::to_string(j));
    }
    if (fields.size() != names.size())
      ctx.fail("expected " + std::to_string(names.size()) + " fields, got " + std::to_string(fields.size()) +
               " (ragged row)");
    if (!configured) configure(fields);
    for (int64_t j : feat_cols) {
      double d;
      if (!parse_double(fields[j], d)) {
        if (trim(fields[j]).empty()) ctx.fail("column '" + names[j] + "' is empty (missing value)");
        ctx.fail("column '" + names[j] + "': '" + fields[j] + "' is not a number");
      }
      feats.push_back(static_cast<float>(d));
    }
    const std::string& lab = fields[label_col];
    if (opt_.regression) {
      double d;
      if (!parse_double(lab, d))
        ctx.fail("label column '" + names[label_col] + "': '" + lab + "' is not a number");
      float_labels.push_back(static_cast<float>(d));
    } else if (label_is_string) {
      if (trim(lab).empty()) ctx.fail("label column '" + names[label_col] + "' is empty (missing value)");
      str_labels.emplace_back(trim(lab));
    } else {
      int64_t v;
      if (!parse_int(lab, v))
        ctx.fail("label column '" + names[label_col] + "': '" + lab + "' is not an integer class label");
      int_labels.push_back(v);
    }
    ++rows;
  }
  NABLA_CHECK(rows > 0, "CSVDataset: ", path, " has no data rows");
  int64_t f = static_cast<int64_t>(feat_cols.size());
  features_ = from_buffer(feats.data(), {rows, f}, kFloat32);
  if (opt_.regression) {
    labels_ = from_buffer(float_labels.data(), {rows}, kFloat32);
  } else if (label_is_string) {
    std::map<std::string, int64_t> index;
    for (const auto& s : str_labels) index.emplace(s, 0);
    for (auto& [name, idx] : index) {
      idx = static_cast<int64_t>(classes_.size());
      classes_.push_back(name);
    }
    for (const auto& s : str_labels) int_labels.push_back(index[s]);
    labels_ = from_buffer(int_labels.data(), {rows}, kInt64);
  } else {
    labels_ = from_buffer(int_labels.data(), {rows}, kInt64);
  }
}

Example CSVDataset::get(int64_t i) const {
  NABLA_CHECK(i >= 0 && i < size(), "CSVDataset: index ", i, " is out of range for a dataset of size ",
              size());
  int64_t f = features_.size(1);
  Tensor x = from_buffer(features_.data_ptr<float>() + i * f, {f}, kFloat32);
  Tensor y = from_buffer(static_cast<const uint8_t*>(labels_.raw_data()) + i * labels_.element_size(), {},
                         labels_.dtype());
  return {x, y};
}

Example CSVDataset::get_batch(const std::vector<int64_t>& indices) const {
  int64_t b = static_cast<int64_t>(indices.size()), f = features_.size(1);
  for (int64_t i : indices)
    NABLA_CHECK(i >= 0 && i < size(), "CSVDataset: index ", i, " is out of range for a dataset of size ",
                size());
  Tensor x = empty({b, f}, kFloat32), y = empty({b}, labels_.dtype());
  size_t ls = labels_.element_size();
  auto* lsrc = static_cast<const uint8_t*>(labels_.raw_data());
  auto* ldst = static_cast<uint8_t*>(y.raw_data());
  for (int64_t k = 0; k < b; ++k) {
    std::memcpy(x.data_ptr<float>() + k * f, features_.data_ptr<float>() + indices[k] * f, f * sizeof(float));
    std::memcpy(ldst + k * ls, lsrc + indices[k] * ls, ls);
  }
  return {x, y};
}

}  // namespace nabla::data::datasets
