// utils::to_categorical and utils::normalize against values written out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/keras.h"

namespace {
using namespace nabla::keras;

TEST(KerasUtils, ToCategorical) {
  auto y = utils::to_categorical(nabla::tensor<int64_t>({2, 0, 1}));
  EXPECT_EQ(y.shape(), (nabla::Shape{3, 3}));
  EXPECT_EQ(y.dtype(), nabla::kFloat32);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0}));
  // [N, 1] labels drop the trailing 1; floats holding integers are accepted.
  auto z = utils::to_categorical(nabla::tensor({3.0f, 1.0f}).reshape({2, 1}), 5);
  EXPECT_EQ(z.shape(), (nabla::Shape{2, 5}));
  EXPECT_EQ(z.to_vector<float>()[3], 1.0f);
  EXPECT_THROW(utils::to_categorical(nabla::tensor<int64_t>({0, 5}), 5), nabla::Error);
  EXPECT_THROW(utils::to_categorical(nabla::tensor<int64_t>({-1})), nabla::Error);
  EXPECT_THROW(utils::to_categorical(nabla::tensor({0.5f})), nabla::Error);
}

TEST(KerasUtils, Normalize) {
  auto x = nabla::tensor({3.0f, 4.0f, 0.0f, 0.0f}).reshape({2, 2});
  auto n = utils::normalize(x);
  EXPECT_EQ(n.to_vector<float>(), (std::vector<float>{0.6f, 0.8f, 0.0f, 0.0f}));  // zero row stays zero
  auto l1 = utils::normalize(x, -1, 1);
  EXPECT_NEAR(l1.to_vector<float>()[0], 3.0 / 7.0, 1e-6);
  auto cols = utils::normalize(x, 0);
  EXPECT_NEAR(cols.to_vector<float>()[0], 1.0, 1e-6);
}

}  // namespace
