// runner BUNDLE X.npy EXPECTED.npy: loads a bundle with the inference library alone, runs it on X
// and compares with EXPECTED (the eager model's output) within 1e-6. Exit 0 when they agree.
#include <nabla/deploy/loaded_model.h>
#include <nabla/io/npy.h>
#include <nabla/ops.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: runner BUNDLE X.npy EXPECTED.npy\n";
    return 2;
  }
  try {
    nabla::LoadedModel model = nabla::load_model(argv[1]);
    nabla::Tensor x = nabla::io::load_npy(argv[2]);
    nabla::Tensor want = nabla::io::load_npy(argv[3]);
    nabla::Tensor got = model(x);
    if (got.shape() != want.shape()) {
      std::cerr << argv[1] << ": output shape " << got.shape() << ", expected " << want.shape() << "\n";
      return 1;
    }
    const double diff = (got - want).abs().max().item<double>();
    std::cout << argv[1] << ": " << model.signature().inputs[0].name << " " << x.shape() << " -> "
              << got.shape() << ", max |diff| vs eager = " << diff << "\n";
    return diff <= 1e-6 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "runner: " << e.what() << "\n";
    return 1;
  }
}
