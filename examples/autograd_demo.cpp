// A first look at nabla's eager tensors and autograd: fit y = 3x + 2 by gradient descent.
//
// The forward pass is ordinary tensor code; backward() fills w.grad() and b.grad(); the update runs
// under NoGradGuard so it is not recorded. `make demo` builds and runs this.
#include <cstdio>

#include "nabla/nabla.h"

int main() {
  nabla::manual_seed(0);

  // 256 noisy samples of y = 3x + 2, x in [-1, 1).
  auto x = nabla::rand({256, 1}) * 2 - 1;
  auto y = x * 3 + 2 + nabla::randn({256, 1}) * 0.1;

  // Parameters: leaves that require grad.
  auto w = nabla::zeros({1, 1}).set_requires_grad(true);
  auto b = nabla::zeros({1}).set_requires_grad(true);
  const double lr = 0.1;

  for (int step = 0; step <= 150; ++step) {
    auto pred = nabla::matmul(x, w) + b;   // [256, 1]
    auto loss = (pred - y).pow(2).mean();  // mean squared error, a 0-dim tensor
    loss.backward();                       // d loss / d w and d loss / d b

    {
      nabla::NoGradGuard no_grad;  // the update itself is not part of the graph
      w.sub_(w.grad() * lr);
      b.sub_(b.grad() * lr);
      w.grad().zero_();
      b.grad().zero_();
    }
    if (step % 25 == 0) std::printf("step %3d  loss %.5f\n", step, loss.item<double>());
  }

  std::printf("learned w = %.3f, b = %.3f (true: 3, 2)\n", w.item<double>(), b.item<double>());
  std::printf("w = %s\nb = %s\n", nabla::to_string(w).c_str(), nabla::to_string(b).c_str());
  return 0;
}
