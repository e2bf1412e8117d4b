// Writes the bundles the deployment CTests run (in OUT_DIR): the seed MLP and the seed CNN with
// seeded weights, each with an input batch (x.npy) and the eager model's output for it (y.npy).
//   make_bundles OUT_DIR
//   make_bundles --compare A.npy B.npy     exit 0 when the arrays agree within 1e-6 (CLI tests)
#include <iostream>

#include "../examples/common/seed_models.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/deploy.h"
#include "nabla/io/npy.h"
#include "nabla/ops.h"

using namespace nabla;

namespace {

void write(nn::Module& m, const Tensor& example, const Tensor& x, const std::string& dir) {
  m.eval();
  export_model(m, {example}, dir);
  NoGradGuard no_grad;
  io::save_npy(x, dir + ".x.npy");
  io::save_npy(m.forward(x), dir + ".y.npy");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::cerr << "usage: make_bundles OUT_DIR\n";
    return 2;
  }
  if (argc == 4 && std::string(argv[1]) == "--compare") {
    try {
      Tensor a = io::load_npy(argv[2]), b = io::load_npy(argv[3]);
      if (a.shape() != b.shape()) {
        std::cerr << "shapes differ: " << a.shape() << " vs " << b.shape() << "\n";
        return 1;
      }
      double d = (a.to(kFloat64) - b.to(kFloat64)).abs().max().item<double>();
      std::cout << "max |diff| = " << d << "\n";
      return d <= 1e-6 ? 0 : 1;
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  const std::string out = argv[1];
  try {
    manual_seed(42);
    SimpleNet mlp;
    // Exported at batch 4, run at batch 3: the batch size is symbolic.
    write(mlp, randn({4, 784}), randn({3, 784}), out + "/mlp");
    auto cnn = make_seed_cnn();
    write(*cnn, randn({2, 1, 28, 28}), randn({5, 1, 28, 28}), out + "/cnn");
  } catch (const std::exception& e) {
    std::cerr << "make_bundles: " << e.what() << "\n";
    return 1;
  }
  std::cout << "bundles written to " << out << "\n";
  return 0;
}
