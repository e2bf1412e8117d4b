// The seed's two models, shared by the examples and benchmarks that are not the user-facing
// listing itself (pytorch_style.cpp and cnn.cpp spell their model out, as a user would).
//   Seed MLP: 784-64-64-10, ReLU.   Seed CNN: conv3x3(32, pad 1)-ReLU-maxpool2-conv3x3(64, pad 1)-
//   ReLU-maxpool2-FC128-ReLU-FC10.
#pragma once
#include <nabla/nn.h>

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

inline nabla::nn::Sequential make_seed_cnn() {
  using namespace nabla;
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
