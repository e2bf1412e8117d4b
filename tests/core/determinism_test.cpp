// The same seed gives bit-identical training whatever the thread count (a promise peers don't make).
#include <gtest/gtest.h>

#include "nabla/nabla.h"

namespace nabla {
namespace {

// Trains a small MLP with plain SGD for a few steps; returns all final weights, flattened.
std::vector<float> train_mlp(int threads) {
  set_num_threads(threads);
  Generator g(123);
  auto x = randn({256, 784}, kFloat32, &g);
  auto y = randint(0, 10, {256}, kInt64, &g);
  auto w1 = (randn({64, 784}, kFloat32, &g) * 0.05).set_requires_grad(true);
  auto b1 = zeros({64}).set_requires_grad(true);
  auto w2 = (randn({10, 64}, kFloat32, &g) * 0.1).set_requires_grad(true);
  auto b2 = zeros({10}).set_requires_grad(true);
  std::vector<Tensor> params{w1, b1, w2, b2};
  for (int step = 0; step < 5; ++step) {
    for (auto& p : params) p.set_grad({});
    auto loss = cross_entropy(linear(relu(linear(x, w1, b1)), w2, b2), y);
    loss.backward();
    NoGradGuard no_grad;
    for (auto& p : params) p.sub_(p.grad() * 0.1);
  }
  std::vector<float> out;
  for (auto& p : params) {
    auto v = p.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

TEST(Determinism, TrainingIsBitIdenticalForOneAndTwoThreads) {
  int saved = get_num_threads();
  auto one = train_mlp(1);
  auto two = train_mlp(2);
  set_num_threads(saved);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_TRUE(one == two) << "results differ between 1 and 2 threads";
}

TEST(Determinism, LargeReductionsAreBitIdentical) {
  int saved = get_num_threads();
  Generator g(5);
  auto x = randn({1 << 22}, kFloat32, &g);
  set_num_threads(1);
  float s1 = x.sum().item<float>();
  auto sm1 = softmax(x.reshape({1024, 4096}), 1).sum({0}).to_vector<float>();
  set_num_threads(2);
  float s2 = x.sum().item<float>();
  auto sm2 = softmax(x.reshape({1024, 4096}), 1).sum({0}).to_vector<float>();
  set_num_threads(saved);
  EXPECT_EQ(s1, s2);
  EXPECT_TRUE(sm1 == sm2);
}

}  // namespace
}  // namespace nabla
