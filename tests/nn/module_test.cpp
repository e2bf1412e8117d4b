// nn::Module: the SimpleNet program, registration and names, state dicts, printing,
// copy/clone semantics, train/eval, to(dtype), containers.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "nabla/nabla.h"
#include "nabla/nn.h"

namespace {
using nabla::Shape;
using nabla::Tensor;
namespace nn = nabla::nn;

// Exactly the program (README spelling).
struct SimpleNet : nabla::nn::Module {
  nabla::nn::Linear fc1{784, 64}, fc2{64, 64}, fc3{64, 10};
  SimpleNet() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
  }
  nabla::Tensor forward(nabla::Tensor x) {
    x = nabla::F::relu(fc1(x));
    x = nabla::F::relu(fc2(x));
    return fc3(x);
  }
};

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const nabla::Error& e) {
    return e.what();
  }
  return "<no error>";
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The repr strings torch 1.13 prints (tests/fixtures/nn/gen_layers.py), separated by "====".
std::vector<std::string> torch_reprs() {
  std::ifstream f(std::string(NABLA_FIXTURE_DIR) + "/nn/layers/repr.txt");
  std::vector<std::string> out;
  std::string line, cur;
  while (std::getline(f, line)) {
    if (line == "====") {
      out.push_back(cur.substr(0, cur.size() - 1));
      cur.clear();
    } else {
      cur += line + "\n";
    }
  }
  return out;
}

TEST(Module, SimpleNetTrains) {
  nabla::manual_seed(0);
  SimpleNet model;
  std::ostringstream printed;
  printed << model;
  auto device = nabla::cuda::is_available() ? nabla::kCUDA : nabla::kCPU;
  model.to(device);
  auto data = nabla::randn({64, 784});
  auto target = nabla::randint(0, 10, {64});
  nabla::nn::CrossEntropyLoss criterion;
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    model.zero_grad();
    auto loss = criterion(model(data), target);
    loss.backward();
    nabla::NoGradGuard no_grad;
    for (auto& p : model.parameters()) p.sub_(p.grad() * 0.1);
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, first * 0.5) << first << " -> " << last;
}

TEST(Module, NamedParametersAndTraversal) {
  SimpleNet model;
  std::vector<std::string> want = {"fc1.weight", "fc1.bias",   "fc2.weight",
                                   "fc2.bias",   "fc3.weight", "fc3.bias"};
  EXPECT_EQ(model.named_parameters().keys(), want);
  EXPECT_EQ(model.parameters().size(), 6u);
  EXPECT_EQ(model.parameters(false).size(), 0u);
  EXPECT_EQ(model.children().size(), 3u);
  EXPECT_EQ(model.named_modules().keys(), (std::vector<std::string>{"", "fc1", "fc2", "fc3"}));
  EXPECT_EQ(model.fc1->weight.shape(), (Shape{64, 784}));
  EXPECT_TRUE(model.fc1->weight.shares_storage_with(model.named_parameters().at("fc1.weight")));
  EXPECT_EQ(model(nabla::randn({5, 784})).shape(), (Shape{5, 10}));
  int visited = 0;
  model.apply([&](nn::Module&) { ++visited; });
  EXPECT_EQ(visited, 4);
}

TEST(Module, PrintsLikePyTorch) {
  auto want = torch_reprs();
  ASSERT_EQ(want.size(), 3u);
  SimpleNet model;
  std::ostringstream os;
  os << model;
  EXPECT_EQ(os.str(), want[0]);

  nn::Sequential cnn{nn::Conv2d({.in = 1, .out = 32, .kernel = 3, .padding = 1}),
                     nn::ReLU(),
                     nn::MaxPool2d(2),
                     nn::Conv2d({.in = 32, .out = 64, .kernel = 3, .bias = false}),
                     nn::LeakyReLU(),
                     nn::AvgPool2d(2),
                     nn::AdaptiveAvgPool2d(1),
                     nn::Flatten(),
                     nn::Sequential(nn::Linear(64, 128), nn::GELU(), nn::Dropout(0.2)),
                     nn::Linear(128, 10, false),
                     nn::LogSoftmax(1)};
  EXPECT_EQ(cnn->repr(), want[1]);

  nn::ModuleList layers{
      nn::Conv1d(3, 4, 3),
      nn::ConvTranspose2d({.in = 4, .out = 2, .kernel = 3, .stride = 2, .output_padding = 1}),
      nn::SiLU(),
      nn::Sigmoid(),
      nn::Tanh(),
      nn::Softmax(-1),
      nn::Identity(),
      nn::Bilinear(2, 3, 4)};
  nn::ModuleDict misc;
  misc->insert("emb", nn::Embedding({.num = 10, .dim = 3, .padding_idx = 0}));
  misc->insert("layers", layers);
  std::ostringstream os2;
  os2 << misc;
  EXPECT_EQ(os2.str(), want[2]);
}

TEST(Module, StateDictRoundTrip) {
  nabla::manual_seed(1);
  SimpleNet a, b;
  auto x = nabla::randn({3, 784});
  EXPECT_FALSE(nabla::allclose(a(x), b(x)));
  auto sd = a.state_dict();
  EXPECT_EQ(sd.size(), 6u);
  EXPECT_FALSE(sd.at("fc1.weight").requires_grad());  // detached handles
  b.load_state_dict(sd);
  EXPECT_TRUE(nabla::equal(a(x), b(x)));
  EXPECT_FALSE(b.fc1->weight.shares_storage_with(a.fc1->weight));  // values were copied
  EXPECT_TRUE(b.fc1->weight.requires_grad());
}

TEST(Module, StrictLoadListsEveryProblemAndChangesNothing) {
  SimpleNet model;
  auto before = model.state_dict();
  std::vector<Tensor> saved;
  for (auto& [k, v] : before) saved.push_back(v.clone());

  auto sd = model.state_dict();
  sd.erase("fc3.weight");
  sd.erase("fc3.bias");
  sd.insert("fc4.weight", nabla::zeros({2, 2}));
  sd.insert_or_assign("fc1.weight", nabla::zeros({64, 785}));
  sd.insert_or_assign("fc2.bias", nabla::zeros({63}));
  sd.insert_or_assign("fc1.bias", nabla::zeros({64}));  // valid: must NOT be applied, the load fails
  std::string msg = what_of([&] { model.load_state_dict(sd); });
  EXPECT_TRUE(contains(msg, "Error(s) in loading state_dict for SimpleNet")) << msg;
  EXPECT_TRUE(contains(msg, "Missing key(s) in state_dict: \"fc3.weight\", \"fc3.bias\".")) << msg;
  EXPECT_TRUE(contains(msg, "Unexpected key(s) in state_dict: \"fc4.weight\".")) << msg;
  EXPECT_TRUE(contains(msg,
                       "size mismatch for fc1.weight: copying a param with shape [64, 785] from checkpoint, "
                       "the shape in current model is [64, 784]."))
      << msg;
  EXPECT_TRUE(contains(msg, "size mismatch for fc2.bias")) << msg;
  size_t i = 0;
  for (auto& [k, v] : model.state_dict()) EXPECT_TRUE(nabla::equal(v, saved[i++])) << k << " changed";

  // Non-strict: missing/unexpected reported, not fatal; shape mismatches still are.
  auto sd2 = model.state_dict();
  sd2.erase("fc3.bias");
  sd2.insert("extra", nabla::zeros({1}));
  auto r = model.load_state_dict(sd2, /*strict=*/false);
  EXPECT_EQ(r.missing_keys, (std::vector<std::string>{"fc3.bias"}));
  EXPECT_EQ(r.unexpected_keys, (std::vector<std::string>{"extra"}));
  sd2.insert_or_assign("fc1.bias", nabla::zeros({3}));
  EXPECT_THROW(model.load_state_dict(sd2, false), nabla::Error);
}

TEST(Module, HolderCopySharesCloneDeepCopies) {
  nn::Linear a(4, 3);
  nn::Linear shared = a;
  EXPECT_EQ(shared.get(), a.get());
  nn::Linear deep = a.clone();
  EXPECT_NE(deep.get(), a.get());
  EXPECT_TRUE(nabla::equal(deep->weight, a->weight));
  EXPECT_FALSE(deep->weight.shares_storage_with(a->weight));
  EXPECT_TRUE(deep->weight.requires_grad());
  EXPECT_TRUE(deep->named_parameters().at("weight").shares_storage_with(deep->weight));  // member == registry
  {
    nabla::NoGradGuard g;
    a->weight.fill_(1.0);
  }
  EXPECT_EQ(shared->weight.sum().item<float>(), 12.f);
  EXPECT_NE(deep->weight.sum().item<float>(), 12.f);

  // Containers clone their children deeply.
  nn::Sequential seq{nn::Linear(2, 2), nn::ReLU()};
  nn::Sequential seq2 = seq.clone();
  EXPECT_FALSE(seq2->at<nn::LinearImpl>(0).weight.shares_storage_with(seq->at<nn::LinearImpl>(0).weight));
  EXPECT_EQ(seq2->repr(), seq->repr());

  // A user module copy shares (its members are holders); clone() needs Cloneable.
  SimpleNet m;
  SimpleNet m_copy = m;
  EXPECT_EQ(m_copy.fc1.get(), m.fc1.get());
  EXPECT_TRUE(contains(what_of([&] { m.clone(); }), "Cloneable<SimpleNet>"));
}

struct CloneableNet : nn::Cloneable<CloneableNet> {
  nn::Linear fc{3, 2};
  Tensor scale;
  CloneableNet() {
    register_module("fc", fc);
    scale = register_buffer("scale", nabla::ones({2}));
  }
  Tensor forward(Tensor x) override { return fc(x) * scale; }
};

TEST(Module, CloneableUserModule) {
  CloneableNet net;
  {
    nabla::NoGradGuard g;
    net.scale.fill_(3.0);
  }
  net.eval();
  auto c = std::dynamic_pointer_cast<CloneableNet>(net.clone());
  ASSERT_TRUE(c);
  auto x = nabla::randn({4, 3});
  EXPECT_TRUE(nabla::equal((*c)(x), net(x)));
  EXPECT_FALSE(c->fc->weight.shares_storage_with(net.fc->weight));
  EXPECT_FALSE(c->is_training());
  EXPECT_FALSE(c->fc->is_training());
}

TEST(Module, TrainEvalPropagates) {
  nn::Sequential net{nn::Linear(2, 2), nn::Sequential(nn::Dropout(0.5), nn::ReLU())};
  EXPECT_TRUE(net->is_training());
  net->eval();
  for (auto* m : net->modules()) EXPECT_FALSE(m->is_training()) << m->name();
  net->train();
  for (auto* m : net->modules()) EXPECT_TRUE(m->is_training()) << m->name();
}

TEST(Module, ToDtypeKeepsHandlesAndZeroGrad) {
  SimpleNet model;
  Tensor w = model.fc1->weight;
  model(nabla::randn({2, 784})).sum().backward();
  EXPECT_TRUE(w.grad().defined());
  model.zero_grad();
  EXPECT_FALSE(w.grad().defined());
  model.to(nabla::kFloat64);
  EXPECT_EQ(w.dtype(), nabla::kFloat64);  // the same handle sees the conversion
  EXPECT_EQ(model.named_parameters().at("fc3.bias").dtype(), nabla::kFloat64);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(model(nabla::randn({2, 784}, nabla::kFloat64)).dtype(), nabla::kFloat64);
  model.to(nabla::kCPU);
}

TEST(Module, RegistrationErrors) {
  struct M : nn::Module {};
  M m;
  m.register_parameter("w", nabla::zeros({2}));
  EXPECT_TRUE(contains(what_of([&] { m.register_parameter("w", nabla::zeros({2})); }),
                       "'w': the name is already taken"));
  EXPECT_THROW(m.register_buffer("a.b", nabla::zeros({2})), nabla::Error);
  EXPECT_THROW(m.register_parameter("", nabla::zeros({2})), nabla::Error);
  auto leaf = nabla::zeros({2}).set_requires_grad(true);
  EXPECT_THROW(m.register_parameter("nonleaf", leaf * 2), nabla::Error);
  m.register_parameter("none", Tensor());  // like bias=None: skipped
  m.register_buffer("stats", nabla::zeros({3}));
  m.register_buffer("tmp", nabla::zeros({3}), /*persistent=*/false);
  EXPECT_EQ(m.parameters().size(), 1u);
  EXPECT_EQ(m.buffers().size(), 2u);
  EXPECT_EQ(m.state_dict().keys(), (std::vector<std::string>{"w", "stats"}));
  EXPECT_TRUE(
      contains(what_of([&] { m(nabla::zeros({1})); }), "M: this module has no single-tensor forward"));
}

TEST(Module, SequentialErrorNamesTheLayer) {
  nn::Sequential net{nn::Linear(784, 64), nn::Linear(128, 10)};
  std::string msg = what_of([&] { net(nabla::zeros({32, 784})); });
  EXPECT_TRUE(contains(msg, "Sequential[1] (Linear(in_features=128, out_features=10, bias=True)): ")) << msg;
  EXPECT_TRUE(contains(msg, "[32, 64]")) << msg;
  EXPECT_TRUE(contains(what_of([&] { (*net)[5]; }), "index 5 is out of range for 2 layers"));
  EXPECT_EQ(net->size(), 2u);
  net->replace_module("1", nn::Linear(64, 10).ptr());
  net->push_back(nn::ReLU());
  EXPECT_EQ(net(nabla::zeros({1, 784})).shape(), (Shape{1, 10}));
  EXPECT_EQ(net->named_parameters().keys()[2], "1.weight");
}

TEST(Module, ModuleListAndDict) {
  struct Tower : nn::Module {
    nn::ModuleList blocks;
    Tower() {
      for (int i = 0; i < 3; ++i) blocks->push_back(nn::Linear(4, 4));
      register_module("blocks", blocks);
    }
    Tensor forward(Tensor x) override {
      for (auto& [name, b] : *blocks) x = b->forward(x);
      return x;
    }
  } tower;
  EXPECT_EQ(tower.named_parameters().keys().back(), "blocks.2.bias");
  EXPECT_EQ(tower(nabla::zeros({2, 4})).shape(), (Shape{2, 4}));
  nn::ModuleDict d;
  d->insert("a", nn::ReLU());
  d->insert("b", std::make_shared<nn::LinearImpl>(2, 3));
  EXPECT_EQ(d->keys(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*d)["b"]->parameters().size(), 2u);
  EXPECT_TRUE(contains(what_of([&] { (*d)["c"]; }), "ModuleDict: no module named 'c'"));
}

TEST(Module, OptionsByDesignatedInitialisers) {
  nn::Linear fc({.in = 784, .out = 64, .bias = false});
  EXPECT_FALSE(fc->bias.defined());
  EXPECT_EQ(fc->parameters().size(), 1u);
  EXPECT_EQ(fc->repr(), "Linear(in_features=784, out_features=64, bias=False)");
  nn::Linear empty = nullptr;
  EXPECT_TRUE(empty.is_empty());
  EXPECT_THROW(empty->forward(Tensor()), nabla::Error);
}

}  // namespace
