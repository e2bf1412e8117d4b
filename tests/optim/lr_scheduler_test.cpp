// LR schedulers vs PyTorch 1.13: 30 epochs of learning rates (and OneCycleLR's momentum) for an
// optimizer with two groups (base lrs 0.1 and 0.02), plus state round trips and errors.
#include "nabla/optim/lr_scheduler.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "nabla/optim/adagrad.h"
#include "nabla/optim/adam.h"
#include "nabla/optim/sgd.h"
#include "optim/optim_fixture.h"

namespace nabla::optim {
namespace {

using testing::load_fixture;
constexpr int kEpochs = 30;

template <typename Opt, typename Options>
std::unique_ptr<Optimizer> two_groups(Options o) {
  o.lr = 0.1;
  return std::make_unique<Opt>(
      std::vector<ParamGroup>{{.params = {zeros({2}).set_requires_grad()}},
                              {.params = {zeros({2}).set_requires_grad()}, .lr = 0.02}},
      o);
}

/// Compares 30 epochs of lrs (and momentum columns, when the fixture has them) with the fixture.
void check_sequence(const std::string& name, Optimizer& opt, const std::function<std::vector<double>()>& lrs,
                    const std::function<void(int)>& step) {
  SCOPED_TRACE(name);
  Tensor expected = load_fixture("sched_" + name);
  ASSERT_EQ(expected.size(0), kEpochs);
  int64_t cols = expected.size(1);
  for (int e = 0; e < kEpochs; ++e) {
    std::vector<double> row = lrs();
    if (cols == 4)
      for (size_t g = 0; g < 2; ++g)
        row.push_back(opt.has_option("betas") ? opt.options(g).beta1 : opt.options(g).momentum);
    auto want = expected.select(0, e).to_vector<double>();
    ASSERT_EQ(row.size(), want.size());
    for (size_t j = 0; j < row.size(); ++j)
      EXPECT_NEAR(row[j], want[j], 1e-12 + 1e-9 * std::abs(want[j])) << "epoch " << e << " column " << j;
    opt.step();  // no gradients: a no-op, as in the fixture script
    step(e);
  }
}

template <typename S>
void check_scheduler(const std::string& name, std::unique_ptr<Optimizer> opt,
                     std::function<S(Optimizer&)> make) {
  S sched = make(*opt);
  check_sequence(
      name, *opt, [&] { return sched.get_last_lr(); }, [&](int) { sched.step(); });
}

TEST(LRScheduler, MatchesPyTorch) {
  check_scheduler<StepLR>("step_lr", two_groups<SGD>(SGDOptions{}),
                          [](Optimizer& o) { return StepLR(o, {.step_size = 7, .gamma = 0.5}); });
  check_scheduler<MultiStepLR>("multistep_lr", two_groups<SGD>(SGDOptions{}), [](Optimizer& o) {
    return MultiStepLR(o, {.milestones = {3, 10, 10, 21}, .gamma = 0.3});
  });
  check_scheduler<ExponentialLR>("exponential_lr", two_groups<SGD>(SGDOptions{}),
                                 [](Optimizer& o) { return ExponentialLR(o, {.gamma = 0.9}); });
  check_scheduler<CosineAnnealingLR>("cosine_lr", two_groups<SGD>(SGDOptions{}), [](Optimizer& o) {
    return CosineAnnealingLR(o, {.T_max = 10, .eta_min = 0.001});
  });
  check_scheduler<CosineAnnealingLR>("cosine_lr_long", two_groups<SGD>(SGDOptions{}),
                                     [](Optimizer& o) { return CosineAnnealingLR(o, {.T_max = 30}); });
  check_scheduler<LinearLR>("linear_lr", two_groups<SGD>(SGDOptions{}), [](Optimizer& o) {
    return LinearLR(o, {.start_factor = 0.1, .end_factor = 1.0, .total_iters = 8});
  });
  check_scheduler<OneCycleLR>("onecycle_sgd", two_groups<SGD>(SGDOptions{.momentum = 0.9}), [](Optimizer& o) {
    return OneCycleLR(o, {.max_lr = {1.0, 0.5}, .total_steps = 30});
  });
  check_scheduler<OneCycleLR>("onecycle_adam_linear", two_groups<Adam>(AdamOptions{}), [](Optimizer& o) {
    return OneCycleLR(o, {.max_lr = {0.01},
                          .total_steps = 30,
                          .pct_start = 0.25,
                          .anneal_strategy = "linear",
                          .base_momentum = 0.8,
                          .max_momentum = 0.9,
                          .div_factor = 10,
                          .final_div_factor = 100});
  });
}

const std::vector<double> kPlateauMetrics = {1.0, 0.9, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.9, 0.9,
                                             0.9, 0.5, 0.6,  0.6,  0.6,  0.6,  0.6, 0.6, 0.6, 0.6,
                                             0.6, 0.4, 0.4,  0.4,  0.4,  0.4,  0.4, 0.4, 0.4, 0.4};

TEST(LRScheduler, ReduceLROnPlateauMatchesPyTorch) {
  {
    auto opt = two_groups<SGD>(SGDOptions{});
    ReduceLROnPlateau sched(*opt, {.factor = 0.5, .patience = 2, .min_lr = {0.01, 0.004}});
    check_sequence(
        "plateau_min_rel", *opt,
        [&] {
          return std::vector<double>{opt->get_lr(0), opt->get_lr(1)};
        },
        [&](int e) { sched.step(kPlateauMetrics[e]); });
  }
  {
    auto opt = two_groups<SGD>(SGDOptions{});
    ReduceLROnPlateau sched(*opt, {.mode = "max",
                                   .factor = 0.2,
                                   .patience = 1,
                                   .threshold = 0.05,
                                   .threshold_mode = "abs",
                                   .cooldown = 2});
    check_sequence(
        "plateau_max_abs_cooldown", *opt,
        [&] {
          return std::vector<double>{opt->get_lr(0), opt->get_lr(1)};
        },
        [&](int e) { sched.step(-kPlateauMetrics[e]); });
    EXPECT_EQ(sched.get_last_lr()[0], opt->get_lr(0));
  }
}

TEST(LRScheduler, StateRoundTrip) {
  auto full = two_groups<SGD>(SGDOptions{});
  CosineAnnealingLR a(*full, {.T_max = 10});
  for (int e = 0; e < 17; ++e) a.step();

  auto first = two_groups<SGD>(SGDOptions{});
  CosineAnnealingLR b(*first, {.T_max = 10});
  for (int e = 0; e < 9; ++e) b.step();
  SchedulerState saved = b.state_dict();
  auto saved_opt = first->state_dict();

  auto resumed = two_groups<SGD>(SGDOptions{});
  CosineAnnealingLR c(*resumed, {.T_max = 10});
  resumed->load_state_dict(saved_opt);
  c.load_state_dict(saved);
  EXPECT_EQ(c.last_epoch(), 9);
  for (int e = 9; e < 17; ++e) c.step();
  EXPECT_EQ(c.get_last_lr(), a.get_last_lr());
  EXPECT_EQ(resumed->get_lr(1), full->get_lr(1));

  auto p1 = two_groups<SGD>(SGDOptions{}), p2 = two_groups<SGD>(SGDOptions{});
  ReduceLROnPlateau r1(*p1, {.patience = 1}), r2(*p2, {.patience = 1});
  for (int e = 0; e < 5; ++e) r1.step(kPlateauMetrics[e]);
  r2.load_state_dict(r1.state_dict());
  p2->load_state_dict(p1->state_dict());
  for (int e = 5; e < 20; ++e) r1.step(kPlateauMetrics[e]), r2.step(kPlateauMetrics[e]);
  EXPECT_EQ(r1.get_last_lr(), r2.get_last_lr());
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

TEST(LRScheduler, Errors) {
  auto sgd = two_groups<SGD>(SGDOptions{});
  auto ada = two_groups<Adagrad>(AdagradOptions{});
  auto has = [](const std::string& msg, const std::string& part) {
    return msg.find(part) != std::string::npos ? ::testing::AssertionSuccess()
                                               : ::testing::AssertionFailure() << msg;
  };
  EXPECT_TRUE(has(error_of([&] { OneCycleLR(*ada, {.max_lr = {1.0}, .total_steps = 10}); }),
                  "OneCycleLR: Adagrad has neither momentum nor betas"));
  EXPECT_TRUE(has(error_of([&] {
                    OneCycleLR(*sgd, {.max_lr = {1.0, 2.0, 3.0}, .total_steps = 10});
                  }),
                  "OneCycleLR: max_lr has 3 values; expected 1 or one per parameter group (2)"));
  EXPECT_TRUE(has(error_of([&] { OneCycleLR(*sgd, {.max_lr = {1.0}}); }), "give total_steps > 0"));
  EXPECT_TRUE(has(error_of([&] {
                    OneCycleLR s(*sgd, {.max_lr = {1.0}, .total_steps = 3, .cycle_momentum = false});
                    for (int i = 0; i < 4; ++i) s.step();
                  }),
                  "OneCycleLR: tried to step 5 times; total_steps is 3"));
  EXPECT_TRUE(has(error_of([&] { LinearLR(*sgd, {.start_factor = 0}); }),
                  "LinearLR: start_factor must be in (0, 1]"));
  EXPECT_TRUE(has(error_of([&] { StepLR(*sgd, {.step_size = 0}); }), "StepLR: step_size must be > 0"));
  EXPECT_TRUE(
      has(error_of([&] { CosineAnnealingLR(*sgd, {.T_max = 0}); }), "CosineAnnealingLR: T_max must be > 0"));
  EXPECT_TRUE(has(error_of([&] { ReduceLROnPlateau(*sgd, {.factor = 1.0}); }),
                  "ReduceLROnPlateau: factor must be < 1"));
  EXPECT_TRUE(
      has(error_of([&] { ReduceLROnPlateau(*sgd, {.mode = "lowest"}); }), "mode must be \"min\" or \"max\""));
}

}  // namespace
}  // namespace nabla::optim
