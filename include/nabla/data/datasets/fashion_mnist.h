// Fashion-MNIST (Zalando): 60,000 train + 10,000 test 28x28 grayscale clothing images, 10 classes.
// Defaults to the files of Debian's dataset-fashion-mnist package.
//   using namespace nabla::data;
//   datasets::FashionMNIST train(datasets::FashionMNIST::kDefaultRoot, true,
//       transforms::Compose(transforms::ToTensor(), transforms::Normalize({0.2860}, {0.3530})));
//   train.size();                // 60000
#pragma once
#include "nabla/data/datasets/mnist.h"

namespace nabla::data::datasets {

class FashionMNIST : public MNIST {
 public:
  /// Where Debian's dataset-fashion-mnist installs the files.
  static constexpr const char* kDefaultRoot = "/usr/share/datasets/fashion-mnist";
  /// Loads the train (60,000) or test (10,000) split; a clear error names the Debian package
  /// when the files are absent.
  explicit FashionMNIST(const std::string& root = kDefaultRoot, bool train = true,
                        transforms::AnyTransform transform = {});
  /// T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
  std::vector<std::string> classes() const override;
};

}  // namespace nabla::data::datasets
