// Optimizers vs PyTorch 1.13 (20 steps from fixed weights and fixed gradients), state_dict round
// trips, parameter groups, zero_grad, non-contiguous parameters and thread-count determinism.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "nabla/optim.h"
#include "nabla/runtime.h"
#include "optim/optim_fixture.h"

namespace nabla::optim {
namespace {

using testing::bit_equal;
using testing::load_fixture;
using testing::max_abs_diff;

constexpr int kSteps = 20;
const char* const kNames[] = {"W", "b", "V", "c"};
bool has_grad(int k, int step) { return !(k == 3 && (step == 6 || step == 13)); }

using Factory = std::function<std::unique_ptr<Optimizer>(const std::vector<ParamGroup>&)>;
struct Config {
  const char* name;
  Factory make;
  ParamGroup group1;  // overrides of the second group (params filled in by the test)
  DType dtype = kFloat32;
};

// (A setter rather than a nested designated initialiser: GCC 12 warns about those in a table.)
template <typename F>
ParamGroup with(F set) {
  ParamGroup g;
  set(g);
  return g;
}

// The twins of CONFIGS in tests/fixtures/optim/gen_optim.py.
std::vector<Config> configs() {
  auto sgd = [](SGDOptions o) { return [o](const auto& g) { return std::make_unique<SGD>(g, o); }; };
  auto adam = [](AdamOptions o) { return [o](const auto& g) { return std::make_unique<Adam>(g, o); }; };
  auto adamw = [](AdamWOptions o) { return [o](const auto& g) { return std::make_unique<AdamW>(g, o); }; };
  auto rms = [](RMSpropOptions o) { return [o](const auto& g) { return std::make_unique<RMSprop>(g, o); }; };
  auto ada = [](AdagradOptions o) { return [o](const auto& g) { return std::make_unique<Adagrad>(g, o); }; };
  return {
      {"sgd", sgd({.lr = 0.1}), {}},
      {"sgd_momentum", sgd({.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01}), {}},
      {"sgd_nesterov", sgd({.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true}),
       with([](ParamGroup& g) { g.lr = 0.2; })},
      {"adam", adam({.lr = 1e-2}), {}},
      {"adam_groups", adam({.lr = 1e-2, .betas = {0.8, 0.99}, .weight_decay = 0.1}),
       with([](ParamGroup& g) { g.lr = 3e-2, g.eps = 1e-3; })},
      {"adam_amsgrad", adam({.lr = 2e-2, .amsgrad = true}), with([](ParamGroup& g) { g.amsgrad = false; })},
      {"adam_f64", adam({.lr = 1e-2, .weight_decay = 0.05}), {}, kFloat64},
      {"adamw", adamw({.lr = 1e-2}), {}},
      {"adamw_amsgrad", adamw({.lr = 1e-2, .weight_decay = 0.1, .amsgrad = true}),
       with([](ParamGroup& g) { g.weight_decay = 0.0; })},
      {"rmsprop", rms({.lr = 1e-2}), {}},
      {"rmsprop_centered_momentum",
       rms({.lr = 1e-2, .alpha = 0.9, .weight_decay = 0.01, .momentum = 0.5, .centered = true}),
       with([](ParamGroup& g) { g.centered = false; })},
      {"adagrad", ada({.lr = 0.1}), {}},
      {"adagrad_decay",
       ada({.lr = 0.1, .lr_decay = 0.05, .weight_decay = 0.01, .initial_accumulator_value = 0.1}),
       with([](ParamGroup& g) { g.lr = 0.3; })},
  };
}

struct OptRun {
  std::vector<Tensor> params;
  std::unique_ptr<Optimizer> opt;
};

OptRun make_run(const Config& c, std::vector<Tensor> params = {}) {
  if (params.empty())
    for (auto* n : kNames)
      params.push_back(load_fixture(std::string("init_") + n).to(c.dtype).set_requires_grad());
  ParamGroup g0{.params = {params[0], params[1]}};
  ParamGroup g1 = c.group1;
  g1.params = {params[2], params[3]};
  auto opt = c.make({g0, g1});
  return {params, std::move(opt)};
}

void run_steps(OptRun& r, DType dtype, int from, int to) {
  for (int s = from; s < to; ++s) {
    r.opt->zero_grad();
    for (int k = 0; k < 4; ++k)
      if (has_grad(k, s))
        r.params[k].set_grad(load_fixture(std::string("grads_") + kNames[k]).select(0, s).to(dtype).clone());
    r.opt->step();
  }
}

TEST(Optimizer, MatchesPyTorchAfter20Steps) {
  for (const auto& c : configs()) {
    SCOPED_TRACE(c.name);
    OptRun r = make_run(c);
    run_steps(r, c.dtype, 0, kSteps);
    for (int k = 0; k < 4; ++k) {
      Tensor expected = load_fixture(std::string(c.name) + "_" + kNames[k]);
      EXPECT_EQ(r.params[k].dtype(), c.dtype);
      EXPECT_LE(max_abs_diff(r.params[k], expected), c.dtype == kFloat64 ? 1e-12 : 1e-5) << kNames[k];
    }
  }
}

TEST(Optimizer, StateDictRoundTripIsBitIdentical) {
  for (const auto& c : configs()) {
    SCOPED_TRACE(c.name);
    OptRun whole = make_run(c);
    run_steps(whole, c.dtype, 0, kSteps);

    OptRun first = make_run(c);
    run_steps(first, c.dtype, 0, 10);
    OptimizerStateDict saved = first.opt->state_dict();
    std::vector<Tensor> copies;
    for (auto& p : first.params) copies.push_back(p.detach().clone().set_requires_grad());
    run_steps(first, c.dtype, 10, 12);  // the snapshot must not follow later steps

    OptRun resumed = make_run(c, copies);
    resumed.opt->load_state_dict(saved);
    run_steps(resumed, c.dtype, 10, kSteps);
    for (int k = 0; k < 4; ++k) EXPECT_TRUE(bit_equal(resumed.params[k], whole.params[k])) << kNames[k];
  }
}

TEST(Optimizer, StateDictLayout) {
  auto c = configs()[5];  // adam_amsgrad: group 0 amsgrad, group 1 not
  OptRun r = make_run(c);
  run_steps(r, kFloat32, 0, 3);
  auto d = r.opt->state_dict();
  ASSERT_EQ(d.param_groups.size(), 2u);
  EXPECT_EQ(d.param_groups[0].params, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(d.param_groups[1].params, (std::vector<int64_t>{2, 3}));
  EXPECT_DOUBLE_EQ(d.param_groups[0].options.at("lr"), 2e-2);
  EXPECT_EQ(d.param_groups[0].options.at("amsgrad"), 1.0);
  EXPECT_EQ(d.param_groups[1].options.at("amsgrad"), 0.0);
  EXPECT_EQ(d.param_groups[0].options.count("momentum"), 0u);
  ASSERT_EQ(d.state.size(), 4u);
  EXPECT_EQ(d.state.at(0).at("step").item<double>(), 3.0);
  EXPECT_EQ(d.state.at(0).at("exp_avg").shape(), (Shape{5, 4}));
  EXPECT_EQ(d.state.at(0).count("max_exp_avg_sq"), 1u);
  EXPECT_EQ(d.state.at(2).count("max_exp_avg_sq"), 0u);
  // Loading restores group options too.
  d.param_groups[1].options["lr"] = 0.5;
  r.opt->load_state_dict(d);
  EXPECT_DOUBLE_EQ(r.opt->get_lr(1), 0.5);
}

TEST(Optimizer, FailedLoadLeavesOptimizerUntouched) {
  auto c = configs()[3];  // adam
  OptRun a = make_run(c), b = make_run(c);
  run_steps(a, kFloat32, 0, 5);
  run_steps(b, kFloat32, 0, 5);
  auto bad = a.opt->state_dict();
  bad.param_groups[0].options["lr"] = 123;
  bad.state[3]["exp_avg"] = zeros({4});  // c has shape [3]
  try {
    a.opt->load_state_dict(bad);
    FAIL() << "expected nabla::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "Adam: load_state_dict: state 'exp_avg' of parameter 1 (group 1) has shape [4]"),
              std::string::npos)
        << e.what();
  }
  EXPECT_DOUBLE_EQ(a.opt->get_lr(0), 1e-2);
  run_steps(a, kFloat32, 5, 10);
  run_steps(b, kFloat32, 5, 10);
  for (int k = 0; k < 4; ++k) EXPECT_TRUE(bit_equal(a.params[k], b.params[k]));
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Optimizer, LoadStateDictMismatchErrors) {
  auto c = configs()[3];
  OptRun r = make_run(c);
  run_steps(r, kFloat32, 0, 2);
  auto d = r.opt->state_dict();

  auto fewer = d;
  fewer.param_groups.pop_back();
  EXPECT_NE(error_of([&] {
              r.opt->load_state_dict(fewer);
            }).find("Adam: load_state_dict: the state dict has 1 parameter groups but the optimizer has 2"),
            std::string::npos);
  auto smaller = d;
  smaller.param_groups[1].params.pop_back();
  EXPECT_NE(error_of([&] {
              r.opt->load_state_dict(smaller);
            }).find("parameter group 1 has 1 parameters in the state dict but 2 in the optimizer"),
            std::string::npos);
  auto unknown = d;
  unknown.state[0]["momentum_buffer"] = zeros({5, 4});
  EXPECT_NE(error_of([&] { r.opt->load_state_dict(unknown); }).find("unexpected state 'momentum_buffer'"),
            std::string::npos);
  auto option = d;
  option.param_groups[0].options["momentum"] = 0.9;
  EXPECT_NE(error_of([&] { r.opt->load_state_dict(option); }).find("has option 'momentum'"),
            std::string::npos);
  // An SGD state dict cannot be loaded into Adam.
  SGD sgd(r.params, {.lr = 0.1, .momentum = 0.9});
  EXPECT_NE(error_of([&] { r.opt->load_state_dict(sgd.state_dict()); }).find("parameter groups"),
            std::string::npos);
}

TEST(Optimizer, OptionErrors) {
  auto w = zeros({2, 3}).set_requires_grad();
  auto has = [](const std::string& msg, const std::string& part) {
    return msg.find(part) != std::string::npos ? ::testing::AssertionSuccess()
                                               : ::testing::AssertionFailure() << msg;
  };
  EXPECT_TRUE(has(error_of([&] { Adam({w}, {.lr = -1}); }), "Adam: invalid learning rate -1"));
  EXPECT_TRUE(has(error_of([&] { Adam({w}, {.betas = {1.0, 0.999}}); }), "Adam: invalid betas[0] 1"));
  EXPECT_TRUE(has(error_of([&] { AdamW({w}, {.betas = {0.9, -0.1}}); }), "AdamW: invalid betas[1] -0.1"));
  EXPECT_TRUE(has(error_of([&] { Adam({w}, {.eps = -1e-8}); }), "Adam: invalid eps"));
  EXPECT_TRUE(has(error_of([&] { SGD({w}, {.lr = 0.1, .nesterov = true}); }),
                  "SGD: Nesterov momentum requires momentum > 0 and dampening == 0"));
  EXPECT_TRUE(
      has(error_of([&] { SGD({w}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}); }),
          "dampening 0.1"));
  EXPECT_TRUE(
      has(error_of([&] { SGD({w}, {.lr = 0.1, .weight_decay = -1}); }), "SGD: invalid weight_decay -1"));
  EXPECT_TRUE(has(error_of([&] { RMSprop({w}, {.alpha = -0.5}); }), "RMSprop: invalid alpha -0.5"));
  EXPECT_TRUE(has(error_of([&] { Adagrad({w}, {.lr_decay = -1}); }), "Adagrad: invalid lr_decay -1"));
  EXPECT_TRUE(has(error_of([&] { Adam({{.params = {w}, .momentum = 0.9}}); }),
                  "Adam: parameter group 0 sets 'momentum', which Adam does not have"));
  EXPECT_TRUE(has(error_of([&] { Adam({{.params = {w}}, {.params = {w}}}); }), "appears more than once"));
  EXPECT_TRUE(has(error_of([&] {
                    Adam({{.params = {w}}, {.params = {}}});
                  }),
                  "parameter group 1 has no parameters"));
  EXPECT_TRUE(
      has(error_of([&] { SGD({zeros({2}, kInt64)}); }), "SGD: parameter 0 of group 0 has dtype int64"));
  EXPECT_TRUE(
      has(error_of([&] { Adam({{.params = {w}, .lr = -0.1}}); }), "Adam: invalid learning rate -0.1"));
  SGD ok({w}, {.lr = 0.1});
  EXPECT_TRUE(has(error_of([&] { ok.set_lr(0, -1); }), "SGD: invalid learning rate -1"));
  EXPECT_TRUE(has(error_of([&] { ok.get_lr(3); }), "SGD: parameter group 3 does not exist (1 groups)"));
  w.impl()->grad = zeros({3, 2}).impl();  // set_grad refuses this; the step checks again
  EXPECT_TRUE(
      has(error_of([&] { ok.step(); }), "SGD: gradient has shape [3, 2] but the parameter has shape [2, 3]"));
}

TEST(Optimizer, GroupsInheritDefaultsAndAddParamGroup) {
  auto a = zeros({2}).set_requires_grad(), b = zeros({2}).set_requires_grad(),
       c = zeros({2}).set_requires_grad();
  SGD opt({{.params = {a}}, {.params = {b}, .lr = 0.5}}, {.lr = 0.1, .momentum = 0.9});
  EXPECT_DOUBLE_EQ(opt.get_lr(0), 0.1);
  EXPECT_DOUBLE_EQ(opt.get_lr(1), 0.5);
  EXPECT_DOUBLE_EQ(opt.options(1).momentum, 0.9);
  opt.add_param_group({.params = {c}, .momentum = 0.0});
  EXPECT_EQ(opt.num_param_groups(), 3u);
  EXPECT_DOUBLE_EQ(opt.get_lr(2), 0.1);
  EXPECT_DOUBLE_EQ(opt.options(2).momentum, 0.0);
  opt.set_lr(0.3);
  EXPECT_DOUBLE_EQ(opt.get_lr(1), 0.3);
  EXPECT_EQ(opt.parameters().size(), 3u);
  EXPECT_TRUE(opt.has_option("nesterov"));
  EXPECT_FALSE(opt.has_option("betas"));
}

TEST(Optimizer, ZeroGradAndSkipsParamsWithoutGrad) {
  auto a = ones({3}).set_requires_grad(), b = ones({3}).set_requires_grad();
  Adam opt({a, b}, {.lr = 0.1});
  a.set_grad(ones({3}));
  uint32_t va = a.version(), vb = b.version();
  opt.step();
  EXPECT_GT(a.version(), va);  // an in-place write
  EXPECT_EQ(b.version(), vb);  // no grad: untouched
  EXPECT_TRUE(bit_equal(b, ones({3})));
  EXPECT_EQ(opt.state_dict().state.count(1), 0u);
  opt.zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(a.grad().defined());
  EXPECT_TRUE(bit_equal(a.grad(), zeros({3})));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Optimizer, NonContiguousParameterMatchesContiguous) {
  auto c = configs()[4];  // adam_groups
  std::vector<Tensor> params;
  for (auto* n : kNames) params.push_back(load_fixture(std::string("init_") + n));
  // W as a transposed view of a [4, 5] buffer: strided, updated through a copy written back.
  Tensor base = params[0].t().contiguous();
  params[0] = base.t().set_requires_grad();
  for (int k = 1; k < 4; ++k) params[k].set_requires_grad();
  ASSERT_FALSE(params[0].is_contiguous());
  OptRun r = make_run(c, params);
  run_steps(r, kFloat32, 0, kSteps);
  EXPECT_LE(max_abs_diff(r.params[0], load_fixture("adam_groups_W")), 1e-5);
  EXPECT_LE(max_abs_diff(base.t(), load_fixture("adam_groups_W")), 1e-5);  // written through to the buffer
}

TEST(Optimizer, ResultsDoNotDependOnThreadCount) {
  int saved = get_num_threads();
  auto run = [](int threads, auto make) {
    set_num_threads(threads);
    Generator gen(7);
    Tensor p = randn({300000}, {}, &gen).set_requires_grad();
    auto opt = make(p);
    for (int s = 0; s < 3; ++s) {
      p.set_grad(randn({300000}, {}, &gen));
      opt->step();
    }
    return p;
  };
  std::vector<std::function<std::unique_ptr<Optimizer>(Tensor)>> makes = {
      [](Tensor p) {
        return std::make_unique<Adam>(std::vector<Tensor>{p}, AdamOptions{.lr = 0.01, .amsgrad = true});
      },
      [](Tensor p) {
        return std::make_unique<SGD>(std::vector<Tensor>{p}, SGDOptions{.lr = 0.1, .momentum = 0.9});
      },
      [](Tensor p) {
        return std::make_unique<RMSprop>(std::vector<Tensor>{p}, RMSpropOptions{.centered = true});
      },
      [](Tensor p) { return std::make_unique<Adagrad>(std::vector<Tensor>{p}); },
  };
  for (auto& make : makes) EXPECT_TRUE(bit_equal(run(1, make), run(2, make)));
  set_num_threads(saved);
}

TEST(Optimizer, TrainsThroughAutograd) {
  // Least squares y = x @ w_true through backward(): Adam drives the loss down.
  Generator gen(3);
  Tensor x = randn({64, 4}, {}, &gen), w_true = randn({4, 1}, {}, &gen), y = matmul(x, w_true);
  Tensor w = zeros({4, 1}).set_requires_grad();
  Adam opt({w}, {.lr = 0.1});
  double first = 0, last = 0;
  for (int s = 0; s < 200; ++s) {
    opt.zero_grad();
    Tensor loss = (matmul(x, w) - y).pow(2).mean();
    loss.backward();
    opt.step();
    (s == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, first * 1e-3);
}

}  // namespace
}  // namespace nabla::optim
