// nabla's side of the training benchmark: the seed MLP and CNN written as a user writes them (nn
// modules, optim::Adam, CrossEntropyLoss and the plain loop), fed shuffled batches gathered from
// Fashion-MNIST in memory (/255). The harness (train_harness.h) times epochs and prints RESULT lines.
//   ./train_nabla --model mlp --threads 1       ./train_nabla --infer      (see train_harness.h)
#include <nabla/autograd.h>
#include <nabla/creation.h>
#include <nabla/nn.h>
#include <nabla/ops.h>
#include <nabla/optim/adam.h>
#include <nabla/runtime.h>

#include "common/seed_models.h"
#include "train_harness.h"

extern "C" char* openblas_get_config();

using namespace nabla;

std::string blas_info() {
  return std::string(openblas_get_config()) + "; mapped: " + harness::loaded_math_libs();
}

int main(int argc, char** argv) {
  return harness::guarded_main(argc, argv, [](const harness::Args& a) {
    set_num_threads(a.threads);
    manual_seed(a.seed);
    if (a.infer) {
      SimpleNet model;
      model.eval();
      NoGradGuard no_grad;
      Tensor x = rand({1, 784});
      harness::run_latency("nabla", a, blas_info(), [&] { model(x); });
      return;
    }
    harness::Data d = harness::load_fashion_mnist();
    Shape image = a.model == "cnn" ? Shape{d.n, 1, 28, 28} : Shape{d.n, 784};
    // One float copy, scaled in place: the data's footprint is the same on every side.
    Tensor images = from_blob(d.images.data(), image, kUInt8).to(kFloat32);
    images.div_(255.0);
    Tensor labels = from_blob(d.labels.data(), {d.n}, kUInt8).to(kInt64);
    d = {};

    SimpleNet mlp;
    nn::Sequential cnn = make_seed_cnn();
    nn::Module& model = a.model == "cnn" ? static_cast<nn::Module&>(*cnn) : mlp;
    optim::Adam optimizer(model.parameters(), {.lr = 0.001});
    nn::CrossEntropyLoss criterion;
    harness::run_training("nabla", a, images.size(0), blas_info(), [&](const std::vector<int64_t>& batch) {
      Tensor idx = from_blob(const_cast<int64_t*>(batch.data()), {int64_t(batch.size())}, kInt64);
      Tensor data = index_select(images, 0, idx), target = index_select(labels, 0, idx);
      optimizer.zero_grad();
      auto loss = criterion(model(data), target);
      loss.backward();
      optimizer.step();
    });
  });
}
