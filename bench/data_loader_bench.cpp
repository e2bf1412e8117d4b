// DataLoader throughput on Fashion-MNIST: shuffle + batch 64 + ToTensor +
// Normalize, in samples/s. The torch side (bench/data_loader_torch.py) does the
// same with torch.utils.data.DataLoader from the same files in memory and
// prints the ratio; run that script, it runs this binary too.
//   build-bench/bench/data_loader_bench [--root DIR] [--epochs 5] [--workers
//   0,1,2]
// Output: one line per num_workers, "nabla workers=N median_samples_per_s=...
// epochs=[...]". Each measured epoch reads every batch (touching one value so
// nothing is optimised away).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/data/data_loader.h"
#include "nabla/data/datasets/fashion_mnist.h"
#include "nabla/data/transforms.h"
#include "nabla/runtime.h"

using namespace nabla;
using namespace nabla::data;

int main(int argc, char **argv) {
  std::string root = datasets::FashionMNIST::kDefaultRoot;
  int epochs = 5;
  std::vector<int> workers = {0, 1, 2};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--root"))
      root = argv[i + 1];
    else if (!std::strcmp(argv[i], "--epochs"))
      epochs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--workers")) {
      workers.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string w; std::getline(ss, w, ',');)
        workers.push_back(std::stoi(w));
    }
  }
  // One thread for the loop itself, as in a training process whose cores go to
  // the model.
  set_num_threads(1);
  datasets::FashionMNIST train(
      root, /*train=*/true,
      transforms::Compose(transforms::ToTensor(),
                          transforms::Normalize({0.2860}, {0.3530})));
  std::printf("dataset: FashionMNIST train, %lld images from %s\n",
              static_cast<long long>(train.size()), root.c_str());
  for (int w : workers) {
    DataLoader loader(
        train,
        {.batch_size = 64, .shuffle = true, .num_workers = w, .seed = 0});
    std::vector<double> rates;
    double checksum = 0;
    for (int e = 0; e <= epochs;
         ++e) { // epoch 0 warms the allocator cache and is not counted
      auto t0 = std::chrono::steady_clock::now();
      int64_t samples = 0;
      for (auto &[x, y] : loader) {
        samples += x.size(0);
        checksum += x.data_ptr<float>()[0];
      }
      double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count();
      if (e > 0)
        rates.push_back(samples / s);
    }
    std::vector<double> sorted = rates;
    std::sort(sorted.begin(), sorted.end());
    std::printf("nabla workers=%d median_samples_per_s=%.0f epochs=[", w,
                sorted[sorted.size() / 2]);
    for (size_t i = 0; i < rates.size(); ++i)
      std::printf("%s%.0f", i ? ", " : "", rates[i]);
    std::printf("] checksum=%.3f\n", checksum);
    std::fflush(stdout);
  }
  return 0;
}
