// gemm_tiling (src/ops/linalg/gemm.cpp): tiles come from the sizes alone, and a linear layer's
// forward and weight-gradient GEMMs cut the weight's rows at the same boundaries.
#include <gtest/gtest.h>

#include "ops/linalg/gemm.h"

namespace nabla::cpu {
namespace {

TEST(GemmTiling, WeightGradientSplitsTheWeightsRowsLikeTheForward) {
  // Seed MLP fc1 (batch 32, 784 -> 64): forward [32, 784] @ [784, 64] cuts the 64 output columns
  // (weight rows) in 2; the weight gradient [64, 32] @ [32, 784] cuts its 64 rows the same way.
  Tiling fwd = gemm_tiling(32, 64, 784), wgrad = gemm_tiling(64, 784, 32);
  EXPECT_TRUE(fwd.split_n);
  EXPECT_EQ(fwd.count, 2);
  EXPECT_EQ(fwd.extent, 32);
  EXPECT_FALSE(wgrad.split_n);
  EXPECT_EQ(wgrad.count, fwd.count);
  EXPECT_EQ(wgrad.extent, fwd.extent);
}

TEST(GemmTiling, RowSplitOnlyWhenItKeepsHalfTheTiles) {
  // conv1 as im2col ([32, 9] @ [9, 25088]): 32 rows cannot be cut, the columns still are.
  Tiling conv = gemm_tiling(32, 25088, 9);
  EXPECT_TRUE(conv.split_n);
  EXPECT_GT(conv.count, 1);
  // [64, 9] @ [9, 25088]: 2 row tiles against 16 column tiles: columns.
  EXPECT_TRUE(gemm_tiling(64, 25088, 9).split_n);
  // The seed CNN's fc1 weight gradient ([128, 64] @ [64, 3136]): rows would be one tile.
  Tiling fc = gemm_tiling(128, 3136, 64);
  EXPECT_TRUE(fc.split_n);
  EXPECT_GT(fc.count, 1);
  // Its fc1 forward ([64, 3136] @ [3136, 128]): tiles past ~1M multiply-adds are >= 128 wide, but
  // a 128-255 wide product is still cut in two halves (else it would run on one thread).
  Tiling fwd = gemm_tiling(64, 128, 3136);
  EXPECT_TRUE(fwd.split_n);
  EXPECT_EQ(fwd.count, 2);
  EXPECT_EQ(fwd.extent, 64);
  EXPECT_EQ(gemm_tiling(64, 384, 1024).extent, 128);  // wider ones keep the >= 128 rule
  // Square and small products: unchanged (larger dim split, or whole).
  EXPECT_EQ(gemm_tiling(64, 64, 32).count, 1);
  Tiling big = gemm_tiling(512, 512, 512);
  EXPECT_EQ(big.count * big.extent >= 512, true);
}

}  // namespace
}  // namespace nabla::cpu
