// nabla::optim umbrella: optimizers, LR schedulers (and gradient clipping from nn::utils).
//   nabla::optim::Adam optimizer(model.parameters(), {.lr = 1e-3});
//   nabla::optim::StepLR scheduler(optimizer, {.step_size = 10, .gamma = 0.5});
#pragma once
#include "nabla/nn/utils/clip_grad.h"
#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/adamw.h"
#include "nabla/optim/lr_scheduler.h"
#include "nabla/optim/optimizer.h"
#include "nabla/optim/rmsprop.h"
#include "nabla/optim/sgd.h"
