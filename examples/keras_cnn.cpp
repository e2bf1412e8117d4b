// The seed CNN, Keras style: Conv2D(32, 3, same)-ReLU-MaxPooling2D-Conv2D(64, 3, same)-ReLU-
// MaxPooling2D-Flatten-Dense(128, relu)-Dense(10, softmax) on channels-last Fashion-MNIST images,
// Adam 1e-3, batch 64, 3 epochs; then the test accuracy on the 10,000 test images.
//   ./keras_cnn [--epochs 3] [--seed 1] [--threads 1] [--train-limit N]
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/generator.h>
#include <nabla/keras.h>
#include <nabla/runtime.h>

#include <cstdio>

#include "common/example_args.h"

// Images as float [N, 28, 28, 1] (NHWC) in [0, 1], labels int64 [N].
std::pair<nabla::Tensor, nabla::Tensor> load(bool train, int64_t limit) {
  nabla::data::datasets::FashionMNIST ds(nabla::data::datasets::FashionMNIST::kDefaultRoot, train);
  auto x = ds.images().to(nabla::kFloat32).unsqueeze(-1) / 255.0;
  auto y = ds.labels();
  if (limit > 0 && limit < x.size(0)) x = x.narrow(0, 0, limit), y = y.narrow(0, 0, limit);
  return {x.contiguous(), y.contiguous()};
}

int main(int argc, char** argv) {
  ExampleArgs args(argc, argv, 3);
  nabla::set_num_threads(args.threads);
  nabla::manual_seed(args.seed);
  auto [x_train, y_train] = load(true, args.train_limit);

  using namespace nabla::keras;
  auto model = Sequential({
      layers::Conv2D(32, 3, {.padding = "same", .activation = "relu", .input_shape = {28, 28, 1}}),
      layers::MaxPooling2D(2),
      layers::Conv2D(64, 3, {.padding = "same", .activation = "relu"}),
      layers::MaxPooling2D(2),
      layers::Flatten(),
      layers::Dense(128, "relu"),
      layers::Dense(10, "softmax"),
  });
  model.compile({.optimizer = optimizers::Adam({.learning_rate = 1e-3}),
                 .loss = "sparse_categorical_crossentropy",
                 .metrics = {"accuracy"}});
  model.summary();
  model.fit(x_train, y_train, {.epochs = args.epochs, .batch_size = 64});

  auto [x_test, y_test] = load(false, 0);
  auto result = model.evaluate(x_test, y_test, {.batch_size = 1000, .verbose = 0});
  std::printf("test loss %.4f\ntest accuracy %.4f\n", result["loss"], result["accuracy"]);
}
