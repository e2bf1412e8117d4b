// The PyTorch-style MLP loop (examples/pytorch_style.cpp) with TensorBoard logging: loss and
// accuracy per epoch for training and validation, weight histograms, a grid of test predictions,
// the hyperparameters with the final test metrics; and the same curves and predictions as PNGs
// drawn without TensorBoard.
//   ./tensorboard_demo [--logdir runs] [--epochs 10] [--seed 1] [--threads 1] [--train-limit N]
//   tensorboard --logdir runs
// Validation uses the last 10,000 training images (never trained on); the test set is read once at
// the end.
#include <nabla/autograd.h>
#include <nabla/data/data_loader.h>
#include <nabla/data/datasets/fashion_mnist.h>
#include <nabla/data/tensor_dataset.h>
#include <nabla/nn.h>
#include <nabla/optim/adam.h>
#include <nabla/plot/image_grid.h>
#include <nabla/plot/training_curves.h>
#include <nabla/runtime.h>
#include <nabla/tensorboard/summary_writer.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "common/example_args.h"
#include "common/seed_models.h"

constexpr int64_t kValidation = 10000;

// Mean loss and accuracy of `model` on (x, y), without recording gradients.
std::pair<double, double> evaluate(SimpleNet& model, const nabla::Tensor& x, const nabla::Tensor& y) {
  nabla::NoGradGuard no_grad;
  auto out = model(x);
  double loss = nabla::nn::CrossEntropyLoss()(out, y).item<double>();
  double acc = nabla::eq(out.argmax(1), y).to(nabla::kFloat64).mean().item<double>();
  return {loss, acc};
}

int main(int argc, char** argv) {
  // --logdir is this example's own option; the rest are the shared example options.
  std::string logdir = "runs";
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--logdir" && i + 1 < argc)
      logdir = argv[++i];
    else
      rest.push_back(argv[i]);
  }
  ExampleArgs args(int(rest.size()), rest.data(), 10);
  nabla::set_num_threads(args.threads);
  nabla::manual_seed(args.seed);

  using nabla::data::datasets::FashionMNIST;
  FashionMNIST train_set(FashionMNIST::kDefaultRoot, true), test_set(FashionMNIST::kDefaultRoot, false);
  auto all_x = train_set.images().to(nabla::kFloat32).reshape({-1, 784}) / 255.0;
  auto all_y = train_set.labels();
  int64_t n_train = all_x.size(0) - kValidation;
  if (args.train_limit > 0 && args.train_limit < n_train) n_train = args.train_limit;
  auto val_x = all_x.narrow(0, all_x.size(0) - kValidation, kValidation).contiguous();
  auto val_y = all_y.narrow(0, all_y.size(0) - kValidation, kValidation).contiguous();
  nabla::data::DataLoader train_loader(
      nabla::data::TensorDataset(all_x.narrow(0, 0, n_train).contiguous(),
                                 all_y.narrow(0, 0, n_train).contiguous()),
      {.batch_size = 32, .shuffle = true, .num_workers = 1, .seed = args.seed});

  SimpleNet model;
  const double lr = 0.001;
  nabla::optim::Adam optimizer(model.parameters(), {.lr = lr});
  nabla::nn::CrossEntropyLoss criterion;

  std::string run = (std::filesystem::path(logdir) / "mlp").string();
  nabla::tensorboard::SummaryWriter writer(run);
  std::ostringstream description;
  description << "```\n"
              << model << "\n```\nAdam, lr " << lr << ", batch 32, " << n_train << " training images";
  writer.add_text("model", description.str());

  auto test_x = (test_set.images().to(nabla::kFloat32).reshape({-1, 784}) / 255.0).contiguous();
  auto test_y = test_set.labels();
  auto sample_images = test_set.images().narrow(0, 0, 32);  // uint8 [32, 28, 28]

  std::map<std::string, std::vector<double>> history;
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    model.train();
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
    }
    model.eval();
    auto [val_loss, val_acc] = evaluate(model, val_x, val_y);
    double train_loss = loss_sum / seen, train_acc = double(correct) / seen;
    history["loss"].push_back(train_loss);
    history["accuracy"].push_back(train_acc);
    history["val_loss"].push_back(val_loss);
    history["val_accuracy"].push_back(val_acc);

    writer.add_scalar("loss/train", train_loss, epoch);
    writer.add_scalar("loss/validation", val_loss, epoch);
    writer.add_scalar("accuracy/train", train_acc, epoch);
    writer.add_scalar("accuracy/validation", val_acc, epoch);
    writer.add_scalars("loss", {{"train", train_loss}, {"validation", val_loss}}, epoch);
    for (const auto& [name, param] : model.named_parameters()) {
      writer.add_histogram(name, param, epoch);
      if (param.grad().defined()) writer.add_histogram(name + ".grad", param.grad(), epoch);
    }
    {
      nabla::NoGradGuard no_grad;
      auto predicted = model(test_x.narrow(0, 0, 32)).argmax(1);
      writer.add_image("test_predictions",
                       nabla::plot::render_image_grid(sample_images, predicted, test_y.narrow(0, 0, 32),
                                                      test_set.classes()),
                       epoch, "HWC");
    }
    writer.flush();
    std::printf("epoch %d/%d  loss %.4f  accuracy %.4f  val_loss %.4f  val_accuracy %.4f\n", epoch,
                args.epochs, train_loss, train_acc, val_loss, val_acc);
  }

  auto [test_loss, test_acc] = evaluate(model, test_x, test_y);
  std::printf("test accuracy %.4f\n", test_acc);
  writer.add_hparams({{"lr", lr}, {"batch_size", 32}, {"epochs", args.epochs}, {"optimizer", "adam"}},
                     {{"hparam/test_accuracy", test_acc}, {"hparam/test_loss", test_loss}}, "hparams");
  writer.close();

  std::string curves = (std::filesystem::path(logdir) / "mlp_curves.png").string();
  std::string preds = (std::filesystem::path(logdir) / "mlp_test_predictions.png").string();
  nabla::plot::training_curves(history, curves, {.title = "MLP on Fashion-MNIST"});
  {
    nabla::NoGradGuard no_grad;
    nabla::plot::image_grid(sample_images, model(test_x.narrow(0, 0, 32)).argmax(1), test_y.narrow(0, 0, 32),
                            test_set.classes(), preds);
  }
  std::printf("event files in %s (tensorboard --logdir %s)\ncurves: %s\npredictions: %s\n", run.c_str(),
              logdir.c_str(), curves.c_str(), preds.c_str());
}
