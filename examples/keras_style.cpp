// The Keras tutorial program in C++: a 784-64-64-10 MLP on Fashion-MNIST (pixels / 255, one-hot
// labels), Adam, batch 32, 10 epochs on the first 50,000 training images, validated on the last
// 10,000 (x_val, y_val: held out from training); then evaluate() on the 10,000 test images, which
// nothing reads before this final evaluation.
//   ./keras_style [--epochs 10] [--seed 1] [--threads 1] [--train-limit N]
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/generator.h>
#include <nabla/keras.h>
#include <nabla/runtime.h>

#include <algorithm>
#include <cstdio>

#include "common/example_args.h"

// Images as float [N, 784] in [0, 1], labels as one-hot [N, 10].
std::pair<nabla::Tensor, nabla::Tensor> load(bool train, int64_t limit) {
  nabla::data::datasets::FashionMNIST ds(nabla::data::datasets::FashionMNIST::kDefaultRoot, train);
  auto x = ds.images().to(nabla::kFloat32).reshape({-1, 784}) / 255.0;
  auto y = nabla::keras::utils::to_categorical(ds.labels(), 10);
  if (limit > 0 && limit < x.size(0)) x = x.narrow(0, 0, limit), y = y.narrow(0, 0, limit);
  return {x.contiguous(), y.contiguous()};
}

int main(int argc, char** argv) {
  ExampleArgs args(argc, argv, 10);
  nabla::set_num_threads(args.threads);
  nabla::manual_seed(args.seed);
  auto [x_all, y_all] = load(true, 0);
  const int64_t n_train = x_all.size(0) - 10000;
  auto x_val = x_all.narrow(0, n_train, 10000), y_val = y_all.narrow(0, n_train, 10000);
  const int64_t n_fit = args.train_limit > 0 ? std::min(args.train_limit, n_train) : n_train;
  auto x_train = x_all.narrow(0, 0, n_fit), y_train = y_all.narrow(0, 0, n_fit);

  using namespace nabla::keras;
  auto model = Sequential({
      layers::Dense(64, "relu", {.input_shape = {784}}),
      layers::Dense(64, "relu"),
      layers::Dense(10, "softmax"),
  });
  model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
  model.summary();
  auto history = model.fit(x_train, y_train,
                           {.epochs = args.epochs, .batch_size = 32, .validation_data = {{x_val, y_val}}});

  auto [x_test, y_test] = load(false, 0);
  auto result = model.evaluate(x_test, y_test, {.verbose = 0});
  std::printf("history: final loss %.4f, final val_accuracy %.4f\n", history.history["loss"].back(),
              history.history["val_accuracy"].back());
  history.plot("keras_style_curves.png");  // loss and accuracy per epoch, train and validation
  std::printf("curves: keras_style_curves.png\n");
  std::printf("test loss %.4f\ntest accuracy %.4f\n", result["loss"], result["accuracy"]);
}
