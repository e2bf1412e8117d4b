// CSV files as a dataset: float32 feature vectors and one label column, read once into memory.
//   nabla::data::datasets::CSVDataset iris({.path = "iris.csv", .label_column = "species"});
//   auto [x, y] = iris.get(0);       // float32 [4], int64 []
//   iris.classes();                  // sorted distinct label strings when labels are not numbers
// Format: one record per line, `delimiter`-separated, optional "double-quoted" fields ("" is a
// quote), blank lines skipped, CR LF accepted. Feature columns default to every column except the
// label whose value in the first data row is a number (so an id or name column is skipped); after
// that, every feature value must be a number. Classification labels are integers as written or,
// when the first label is not a number, class indices in sorted order of the distinct strings.
// Bad rows (wrong field count, non-number, empty value) throw nabla::Error with the file, line
// number and column.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "nabla/data/dataset.h"

namespace nabla::data::datasets {

/// A column picked by header name or by 0-based index (negative counts from the end).
struct Column {
  std::variant<int64_t, std::string> key = int64_t{-1};
  Column() = default;
  Column(int64_t i) : key(i) {}
  Column(int i) : key(int64_t{i}) {}
  Column(std::string name) : key(std::move(name)) {}
  Column(const char* name) : key(std::string(name)) {}
};

struct CSVOptions {
  std::string path;
  bool has_header = true;
  char delimiter = ',';
  /// The target column (default: the last one).
  Column label_column = -1;
  /// Feature columns in this order; empty: every numeric column except the label.
  std::vector<Column> feature_columns = {};
  /// Float32 labels (regression) instead of int64 class labels.
  bool regression = false;
};

class CSVDataset : public Dataset {
 public:
  explicit CSVDataset(CSVOptions options);
  int64_t size() const override { return features_.size(0); }
  /// Row i: features float32 [F], label int64 [] (float32 [] for regression).
  Example get(int64_t i) const override;
  /// Rows gathered in one index_select each.
  Example get_batch(const std::vector<int64_t>& indices) const override;

  /// float32 [N, F].
  const Tensor& features() const { return features_; }
  /// int64 [N] (float32 [N] for regression).
  const Tensor& labels() const { return labels_; }
  /// Names of the feature columns (from the header, or "column <i>").
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  /// Label strings by class index when the labels were not numbers; empty otherwise.
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  CSVOptions opt_;
  Tensor features_, labels_;
  std::vector<std::string> feature_names_, classes_;
};

}  // namespace nabla::data::datasets
