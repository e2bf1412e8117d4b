// Dataset::get_batch default, collate, TensorDataset.
#include <gtest/gtest.h>

#include "data/data_test_util.h"
#include "nabla/creation.h"
#include "nabla/data/collate.h"
#include "nabla/data/tensor_dataset.h"
#include "nabla/ops.h"

using namespace nabla;
using data_test::IndexDataset;

TEST(Dataset, DefaultGetBatchStacksExamples) {
  IndexDataset ds(10);
  auto [x, y] = ds.get_batch({3, 1, 4});
  EXPECT_EQ(x.shape(), Shape({3, 2}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{3, 3, 1, 1, 4, 4}));
  EXPECT_EQ(y.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 4}));
  EXPECT_THROW(ds.get_batch({}), Error);
}

TEST(Dataset, CollateChecksShapesAndTargets) {
  data::Example a{zeros({2}), zeros({})}, b{zeros({3}), zeros({})}, c{zeros({2}), Tensor()};
  try {
    data::collate({a, b});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("collate: example 1 has data shape [3]"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(data::collate({a, c}), Error);
  auto unlabelled = data::collate({c, c});
  EXPECT_FALSE(unlabelled.target.defined());
  EXPECT_EQ(unlabelled.data.shape(), Shape({2, 2}));
}

TEST(TensorDataset, GetAndGetBatch) {
  Tensor x = arange(0, 12).reshape({6, 2}).to(kFloat32);
  Tensor y = arange(0, 6) * int64_t{10};
  data::TensorDataset ds(x, y);
  EXPECT_EQ(ds.size(), 6);
  auto [xi, yi] = ds.get(2);
  EXPECT_EQ(xi.to_vector<float>(), (std::vector<float>{4, 5}));
  EXPECT_EQ(yi.item<int64_t>(), 20);
  auto [xb, yb] = ds.get_batch({5, 0, 5});
  EXPECT_EQ(xb.to_vector<float>(), (std::vector<float>{10, 11, 0, 1, 10, 11}));
  EXPECT_EQ(yb.to_vector<int64_t>(), (std::vector<int64_t>{50, 0, 50}));
  // get_batch matches the default (stack of get) implementation.
  auto ref = ds.Dataset::get_batch({5, 0, 5});
  EXPECT_TRUE(equal(ref.data, xb));
  EXPECT_TRUE(equal(ref.target, yb));
}

TEST(TensorDataset, Errors) {
  try {
    data::TensorDataset(zeros({5, 3}), zeros({4}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x and y disagree on the number of "
                                         "examples: x [5, 3] has 5, y [4] has 4"),
              std::string::npos)
        << e.what();
  }
  data::TensorDataset ds(zeros({5, 3}));
  EXPECT_FALSE(ds.get(0).target.defined());
  EXPECT_THROW(ds.get(5), Error);
  EXPECT_THROW(ds.get_batch({0, -1}), Error);
  EXPECT_THROW(data::TensorDataset(full({}, 1.0)), Error);
}
