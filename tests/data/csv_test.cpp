// CSVDataset: column selection, labels (integers, strings, regression), quoting, and bad rows
// reported with file name and line number.
#include "nabla/data/datasets/csv.h"

#include <gtest/gtest.h>

#include "data/temp_dir.h"

using namespace data_test;
using namespace nabla::data::datasets;

TEST(CSVDataset, HeaderLabelByNameSkipsTextColumns) {
  TempDir dir;
  write_text(dir / "a.csv",
             "id,name,x1,x2,label\r\n"
             "1,\"Smith, J\",0.5,-2,1\r\n"
             "\n"
             "2,Doe,1e3, 4.25 ,0\r\n");
  CSVDataset ds({.path = dir / "a.csv", .label_column = "label"});
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.feature_names(), (std::vector<std::string>{"id", "x1", "x2"}));
  EXPECT_EQ(ds.features().to_vector<float>(), (std::vector<float>{1, 0.5f, -2, 2, 1000, 4.25f}));
  EXPECT_EQ(ds.labels().to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  auto e = ds.get(1);
  EXPECT_EQ(e.data.shape(), (nabla::Shape{3}));
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item<int64_t>(), 0);
  auto b = ds.get_batch({1, 1, 0});
  EXPECT_EQ(b.data.shape(), (nabla::Shape{3, 3}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1}));
}

TEST(CSVDataset, NoHeaderIndexColumnsDelimiterRegression) {
  TempDir dir;
  write_text(dir / "r.tsv", "1;2;3.5\n4;5;6.25\n");
  CSVDataset ds({.path = dir / "r.tsv",
                 .has_header = false,
                 .delimiter = ';',
                 .label_column = 2,
                 .feature_columns = {1, 0},
                 .regression = true});
  EXPECT_EQ(ds.features().to_vector<float>(), (std::vector<float>{2, 1, 5, 4}));
  EXPECT_EQ(ds.labels().dtype(), nabla::kFloat32);
  EXPECT_EQ(ds.labels().to_vector<float>(), (std::vector<float>{3.5f, 6.25f}));
  EXPECT_EQ(ds.feature_names(), (std::vector<std::string>{"column 1", "column 0"}));
}

TEST(CSVDataset, StringLabelsBecomeSortedClassIndices) {
  TempDir dir;
  write_text(dir / "iris.csv", "a,b,species\n1,2,virginica\n3,4,setosa\n5,6,versicolor\n7,8,setosa\n");
  CSVDataset ds({.path = dir / "iris.csv"});  // label: last column
  EXPECT_EQ(ds.classes(), (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(ds.labels().to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 1, 0}));
}

TEST(CSVDataset, RaggedRowReportsLineNumber) {
  TempDir dir;
  write_text(dir / "bad.csv", "a,b,y\n1,2,0\n3,4,1\n5,1\n");
  expect_error([&] { CSVDataset({.path = dir / "bad.csv"}); },
               {"CSVDataset", dir / "bad.csv", "line 4", "expected 3 fields, got 2"});
}

TEST(CSVDataset, NonNumberReportsLineAndColumn) {
  TempDir dir;
  write_text(dir / "nan.csv", "a,b,y\n1,2,0\n\n3,abc,1\n");
  expect_error([&] { CSVDataset({.path = dir / "nan.csv"}); },
               {dir / "nan.csv", "line 4", "column 'b'", "'abc' is not a number"});
  write_text(dir / "empty.csv", "a,b,y\n1,,0\n");
  expect_error(
      [&] {
        CSVDataset({.path = dir / "empty.csv", .feature_columns = {"a", "b"}});
      },
      {"line 2", "column 'b' is empty"});
  write_text(dir / "lab.csv", "a,y\n1,0\n2,x\n");
  expect_error([&] { CSVDataset({.path = dir / "lab.csv"}); }, {"line 3", "label column 'y'", "'x'"});
  write_text(dir / "q.csv", "a,y\n\"1,0\n");
  expect_error([&] { CSVDataset({.path = dir / "q.csv"}); }, {"line 2", "unterminated quoted field"});
}

TEST(CSVDataset, BadOptionsAndFiles) {
  TempDir dir;
  expect_error([&] { CSVDataset({.path = dir / "missing.csv"}); },
               {"CSVDataset", "cannot open", "missing.csv"});
  write_text(dir / "h.csv", "a,b\n");
  expect_error([&] { CSVDataset({.path = dir / "h.csv"}); }, {"no data rows"});
  write_text(dir / "c.csv", "a,b\n1,2\n");
  expect_error([&] { CSVDataset({.path = dir / "c.csv", .label_column = "z"}); },
               {"label column 'z' is not in the header", "'a', 'b'"});
  expect_error([&] { CSVDataset({.path = dir / "c.csv", .label_column = 5}); }, {"index 5 is out of range"});
  CSVDataset ok({.path = dir / "c.csv"});
  expect_error([&] { ok.get(1); }, {"CSVDataset", "index 1"});
}
