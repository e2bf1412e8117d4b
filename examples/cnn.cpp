// The seed CNN on Fashion-MNIST: conv3x3(32, pad 1)-ReLU-maxpool2-conv3x3(64, pad 1)-ReLU-maxpool2-
// FC128-ReLU-FC10, Adam 1e-3, batch 64, 3 epochs; evaluated once on the test set.
//   ./cnn [--epochs 3] [--seed 1] [--threads 1] [--train-limit N] [--compiled]
// --compiled trains the same model through one compiled graph per step (forward, loss, backward
// and Adam update: nabla::jit::compile_train_step, docs/graph_mode.md) instead of eagerly.
#include <nabla/autograd.h>
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/tensor_dataset.h>
#include <nabla/jit.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>
#include <nabla/utils/progress_bar.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "common/example_args.h"

using namespace nabla;

nn::Sequential make_cnn() {
  return nn::Sequential{
      nn::Conv2d({.in = 1, .out = 32, .kernel = 3, .padding = 1}),
      nn::ReLU(),
      nn::MaxPool2d(2),
      nn::Conv2d({.in = 32, .out = 64, .kernel = 3, .padding = 1}),
      nn::ReLU(),
      nn::MaxPool2d(2),
      nn::Flatten(),
      nn::Linear(64 * 7 * 7, 128),
      nn::ReLU(),
      nn::Linear(128, 10),
  };
}

// Images as float [N, 1, 28, 28] in [0, 1], labels int64 [N].
data::TensorDataset load(bool train, int64_t limit) {
  data::datasets::FashionMNIST ds(data::datasets::FashionMNIST::kDefaultRoot, train);
  auto x = ds.images().to(kFloat32).unsqueeze(1) / 255.0;
  auto y = ds.labels();
  if (limit > 0 && limit < x.size(0)) x = x.narrow(0, 0, limit), y = y.narrow(0, 0, limit);
  return data::TensorDataset(x.contiguous(), y.contiguous());
}

int main(int argc, char** argv) {
  ExampleArgs args(argc, argv, 3);
  set_num_threads(args.threads);
  manual_seed(args.seed);

  data::DataLoader train_loader(load(true, args.train_limit),
                                {.batch_size = 64, .shuffle = true, .num_workers = 1, .seed = args.seed});
  auto model = make_cnn();
  std::cout << model << "\n";
  optim::Adam optimizer(model->parameters(), {.lr = 0.001});
  nn::CrossEntropyLoss criterion;
  std::optional<jit::CompiledFunction> step;
  if (args.compiled)
    step = jit::compile_train_step(
        *model.ptr(), [&](const Tensor& out, const Tensor& t) { return criterion(out, t); }, optimizer);

  for (int epoch = 0; epoch < args.epochs; ++epoch) {
    utils::ProgressBar bar(train_loader.size(), "epoch " + std::to_string(epoch + 1));
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (auto& [data, target] : train_loader) {
      Tensor output, loss;
      if (step) {
        auto r = (*step)({data, target});  // (loss, output)
        loss = r[0], output = r[1];
      } else {
        optimizer.zero_grad();
        output = model(data);
        loss = criterion(output, target);
        loss.backward();
        optimizer.step();
      }
      loss_sum += loss.item<double>() * data.size(0);
      correct += eq(output.argmax(1), target).sum().item<int64_t>();
      seen += data.size(0);
      bar.update(1);
    }
    bar.finish();
    std::printf("epoch %d/%d  loss %.4f  train accuracy %.4f  time %.2fs  (%.0f samples/s)\n", epoch + 1,
                args.epochs, loss_sum / seen, double(correct) / seen, bar.elapsed(), seen / bar.elapsed());
  }

  model->eval();
  NoGradGuard no_grad;
  auto test = load(false, 0);
  int64_t correct = 0;
  for (int64_t start = 0; start < test.size(); start += 1000) {
    std::vector<int64_t> idx;
    for (int64_t i = start; i < std::min<int64_t>(start + 1000, test.size()); ++i) idx.push_back(i);
    auto b = test.get_batch(idx);
    correct += eq(model(b.data).argmax(1), b.target).sum().item<int64_t>();
  }
  std::printf("test accuracy %.4f\n", double(correct) / test.size());
}
