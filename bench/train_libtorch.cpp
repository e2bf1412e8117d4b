// libtorch's side of the training benchmark (Debian libtorch-dev, the C++ frontend): the same seed
// MLP and CNN, Adam, cross-entropy and loop as train_nabla.cpp, on the same shuffled batches.
//   ./train_libtorch --model mlp --threads 1       ./train_libtorch --infer   (see train_harness.h)
#include <torch/torch.h>

#include "train_harness.h"

struct SimpleNet : torch::nn::Module {
  torch::nn::Linear fc1{784, 64}, fc2{64, 64}, fc3{64, 10};
  SimpleNet() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(fc1(x));
    x = torch::relu(fc2(x));
    return fc3(x);
  }
};

torch::nn::Sequential make_cnn() {
  namespace nn = torch::nn;
  return nn::Sequential(
      nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
      nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
      nn::Flatten(), nn::Linear(64 * 7 * 7, 128), nn::ReLU(), nn::Linear(128, 10));
}

std::string blas_info() {
  // BLAS_INFO from the build summary, then what is actually mapped (libblas.so.3 is Debian's
  // alternatives link: its resolved path names the implementation).
  std::string cfg = torch::show_config(), blas = "?";
  size_t at = cfg.find("BLAS_INFO=");
  if (at != std::string::npos) blas = cfg.substr(at + 10, cfg.find_first_of(", \n", at) - at - 10);
  return "libtorch " + std::string(TORCH_VERSION) + " BLAS_INFO=" + blas +
         "; mapped: " + harness::loaded_math_libs();
}

int main(int argc, char** argv) {
  return harness::guarded_main(argc, argv, [](const harness::Args& a) {
    torch::set_num_threads(a.threads);
    torch::manual_seed(a.seed);
    if (a.infer) {
      SimpleNet model;
      model.eval();
      torch::NoGradGuard no_grad;
      torch::Tensor x = torch::rand({1, 784});
      harness::run_latency("libtorch", a, blas_info(), [&] { model.forward(x); });
      return;
    }
    harness::Data d = harness::load_fashion_mnist();
    std::vector<int64_t> image =
        a.model == "cnn" ? std::vector<int64_t>{d.n, 1, 28, 28} : std::vector<int64_t>{d.n, 784};
    torch::Tensor images = torch::from_blob(d.images.data(), image, torch::kUInt8).to(torch::kFloat32);
    images.div_(255.0);
    torch::Tensor labels = torch::from_blob(d.labels.data(), {d.n}, torch::kUInt8).to(torch::kInt64);
    d = {};

    auto mlp = std::make_shared<SimpleNet>();
    torch::nn::Sequential cnn = make_cnn();
    bool is_cnn = a.model == "cnn";
    torch::optim::Adam optimizer(is_cnn ? cnn->parameters() : mlp->parameters(),
                                 torch::optim::AdamOptions(1e-3));
    torch::nn::CrossEntropyLoss criterion;
    harness::run_training("libtorch", a, images.size(0), blas_info(), [&](const std::vector<int64_t>& batch) {
      torch::Tensor idx =
          torch::from_blob(const_cast<int64_t*>(batch.data()), {int64_t(batch.size())}, torch::kInt64);
      torch::Tensor data = images.index_select(0, idx), target = labels.index_select(0, idx);
      optimizer.zero_grad();
      auto loss = criterion(is_cnn ? cnn->forward(data) : mlp->forward(data), target);
      loss.backward();
      optimizer.step();
    });
  });
}
