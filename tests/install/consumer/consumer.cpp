// Links against an installed nabla through fine-grained headers; exits non-zero on a wrong result.
#include <nabla/autograd.h>
#include <nabla/creation.h>
#include <nabla/ops.h>
#include <nabla/runtime.h>
#include <nabla/tensor.h>

#include <cmath>
#include <iostream>

int main() {
  nabla::set_num_threads(1);  // touches the OpenMP/OpenBLAS link dependencies
  auto x = nabla::tensor({1.f, 2.f, 3.f}).set_requires_grad(true);
  auto w = nabla::tensor({{1.f}, {2.f}, {3.f}});
  auto y = (nabla::matmul(x.unsqueeze(0), w).sum() + (x * x).sum());  // 14 + 14
  y.backward();
  auto g = x.grad().to_vector<float>();  // w + 2x = {3, 6, 9}
  bool ok =
      std::abs(y.item<float>() - 28.f) < 1e-5f && g.size() == 3 && g[0] == 3.f && g[1] == 6.f && g[2] == 9.f;
  std::cout << "y = " << y << "\ndy/dx = " << x.grad() << "\n";
  if (!ok) {
    std::cerr << "consumer: wrong result\n";
    return 1;
  }
  return 0;
}
