// The seed's PyTorch program in C++: a 784-64-64-10 MLP trained on Fashion-MNIST with Adam
// (lr 1e-3, batch 32, 10 epochs, pixels / 255), then evaluated once on the test set.
//   ./pytorch_style [--epochs 10] [--seed 1] [--threads 1] [--train-limit N]
#include <nabla/autograd.h>
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/tensor_dataset.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>
#include <nabla/utils/progress_bar.h>

#include <cstdio>
#include <iostream>

#include "common/example_args.h"

struct SimpleNet : nabla::nn::Module {
  nabla::nn::Linear fc1{784, 64}, fc2{64, 64}, fc3{64, 10};
  SimpleNet() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  nabla::Tensor forward(nabla::Tensor x) override {
    x = nabla::F::relu(fc1(x));
    x = nabla::F::relu(fc2(x));
    return fc3(x);
  }
};

// Images as float [N, 784] in [0, 1], labels int64 [N].
nabla::data::TensorDataset load(bool train, int64_t limit) {
  nabla::data::datasets::FashionMNIST ds(nabla::data::datasets::FashionMNIST::kDefaultRoot, train);
  auto x = ds.images().to(nabla::kFloat32).reshape({-1, 784}) / 255.0;
  auto y = ds.labels();
  if (limit > 0 && limit < x.size(0)) x = x.narrow(0, 0, limit), y = y.narrow(0, 0, limit);
  return nabla::data::TensorDataset(x.contiguous(), y.contiguous());
}

int main(int argc, char** argv) {
  ExampleArgs args(argc, argv, 10);
  nabla::set_num_threads(args.threads);
  nabla::manual_seed(args.seed);

  nabla::data::DataLoader train_loader(
      load(true, args.train_limit), {.batch_size = 32, .shuffle = true, .num_workers = 1, .seed = args.seed});
  SimpleNet model;
  std::cout << model << "\n";
  auto device = nabla::cuda::is_available() ? nabla::kCUDA : nabla::kCPU;
  model.to(device);
  nabla::optim::Adam optimizer(model.parameters(), {.lr = 0.001});
  nabla::nn::CrossEntropyLoss criterion;

  for (int epoch = 0; epoch < args.epochs; ++epoch) {
    nabla::utils::ProgressBar bar(train_loader.size(), "epoch " + std::to_string(epoch + 1));
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (auto& [data, target] : train_loader) {
      optimizer.zero_grad();
      auto output = model(data);
      auto loss = criterion(output, target);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * data.size(0);
      correct += nabla::eq(output.argmax(1), target).sum().item<int64_t>();
      seen += data.size(0);
      bar.update(1);
    }
    bar.finish();
    std::printf("epoch %d/%d  loss %.4f  train accuracy %.4f  time %.2fs  (%.0f samples/s)\n", epoch + 1,
                args.epochs, loss_sum / seen, double(correct) / seen, bar.elapsed(), seen / bar.elapsed());
  }

  // The test set is read only here, once.
  model.eval();
  nabla::NoGradGuard no_grad;
  auto test = load(false, 0);
  auto batch = test.get_batch([&] {
    std::vector<int64_t> all(test.size());
    for (int64_t i = 0; i < test.size(); ++i) all[i] = i;
    return all;
  }());
  double acc = nabla::eq(model(batch.data).argmax(1), batch.target).to(nabla::kFloat64).mean().item<double>();
  std::printf("test accuracy %.4f\n", acc);
}
