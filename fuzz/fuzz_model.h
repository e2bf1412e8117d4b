// The training state fuzz_checkpoint loads into, shared with make_corpus so the seed checkpoints
// fit it (and so the fuzzer reaches the apply path, not only the format checks).
#pragma once
#include <memory>

#include "nabla/io/checkpoint.h"
#include "nabla/nn.h"
#include "nabla/optim.h"

struct FuzzModel {
  FuzzModel() {
    nabla::manual_seed(0);
    model = nabla::nn::Sequential(nabla::nn::Linear(3, 4), nabla::nn::ReLU(), nabla::nn::Linear(4, 2));
    opt = std::make_unique<nabla::optim::Adam>(model->parameters(), nabla::optim::AdamOptions{.lr = 0.1});
    sched = std::make_unique<nabla::optim::StepLR>(*opt, nabla::optim::StepLROptions{.step_size = 2});
  }
  nabla::TrainingState state() {
    return {.model = &*model, .optimizer = opt.get(), .scheduler = sched.get(), .rng = &rng};
  }
  nabla::nn::Sequential model{nullptr};
  std::unique_ptr<nabla::optim::Adam> opt;
  std::unique_ptr<nabla::optim::StepLR> sched;
  nabla::Generator rng{1};
};
