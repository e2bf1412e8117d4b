// Training checkpoints: resuming is bit-identical to never stopping; a checkpoint that does not
// fit (or is not one) changes nothing.
#include "nabla/io/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "data/temp_dir.h"
#include "nabla/io/atomic_file.h"
#include "nabla/nabla.h"
#include "nabla/nn.h"
#include "nabla/optim.h"

namespace nabla {
namespace {

io::SafetensorsFile load_safetensors_file(const std::string& p) { return io::load_safetensors(p); }

using data_test::expect_error;
using data_test::TempDir;

// A model whose training uses every piece of state: dropout draws from the default generator,
// Adam keeps moments and step counts, StepLR changes the lr every 3 steps.
struct Trainer {
  explicit Trainer(uint64_t init_seed, int hidden = 16) {
    manual_seed(init_seed);
    model = nn::Sequential(nn::Linear(4, hidden), nn::ReLU(), nn::Dropout(0.3), nn::Linear(hidden, 2));
    opt = std::make_unique<optim::Adam>(model->parameters(),
                                        optim::AdamOptions{.lr = 0.05, .weight_decay = 1e-3});
    sched = std::make_unique<optim::StepLR>(*opt, optim::StepLROptions{.step_size = 3, .gamma = 0.5});
  }
  TrainingState state(int64_t step = 0) {
    return {
        .model = &*model, .optimizer = opt.get(), .scheduler = sched.get(), .epoch = step / 3, .step = step};
  }
  // Steps [from, to): batch `s` comes from its own generator, so it does not depend on history.
  void train(int64_t from, int64_t to) {
    for (int64_t s = from; s < to; ++s) {
      Generator g(1000 + s);
      Tensor x = randn({8, 4}, {}, &g), y = randn({8, 2}, {}, &g);
      opt->zero_grad();
      F::mse_loss(model->forward(x), y).backward();
      opt->step();
      if ((s + 1) % 3 == 0) sched->step();
    }
  }
  nn::Sequential model{nullptr};
  std::unique_ptr<optim::Adam> opt;
  std::unique_ptr<optim::StepLR> sched;
};

std::string bytes_of(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), c.nbytes());
}

void expect_same_bytes(Trainer& a, Trainer& b) {
  auto pa = a.model->state_dict(), pb = b.model->state_dict();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& [k, t] : pa) EXPECT_EQ(bytes_of(t), bytes_of(pb.at(k))) << k;
  auto sa = a.opt->state_dict(), sb = b.opt->state_dict();
  ASSERT_EQ(sa.state.size(), sb.state.size());
  for (const auto& [id, named] : sa.state)
    for (const auto& [name, t] : named) EXPECT_EQ(bytes_of(t), bytes_of(sb.state.at(id).at(name))) << name;
  EXPECT_EQ(a.opt->get_lr(), b.opt->get_lr());
  EXPECT_EQ(a.sched->last_epoch(), b.sched->last_epoch());
}

TEST(Checkpoint, ResumingIsBitIdenticalToAnUninterruptedRun) {
  TempDir dir;
  const int64_t N = 7, M = 8;
  Trainer straight(1);
  straight.train(0, N + M);
  uint64_t rng_after = default_generator().next_u64();

  Trainer first(1);
  first.train(0, N);
  save_checkpoint(dir / "ckpt.safetensors", first.state(N));

  // A new process, in effect: different initial weights, a fresh optimizer, scrambled RNG.
  Trainer resumed(99);
  manual_seed(12345);
  resumed.train(0, 2);
  TrainingState st = resumed.state();
  load_checkpoint(dir / "ckpt.safetensors", st);
  EXPECT_EQ(st.step, N);
  EXPECT_EQ(st.epoch, N / 3);
  resumed.train(st.step, N + M);
  expect_same_bytes(straight, resumed);
  EXPECT_EQ(default_generator().next_u64(), rng_after);

  // Without the RNG state the run diverges (dropout masks differ): the test can fail.
  Trainer no_rng(99);
  TrainingState partial = no_rng.state();
  load_checkpoint(dir / "ckpt.safetensors", partial);
  manual_seed(4242);
  no_rng.train(N, N + M);
  EXPECT_NE(bytes_of(no_rng.model->state_dict().at("0.weight")),
            bytes_of(straight.model->state_dict().at("0.weight")));
}

TEST(Checkpoint, KeepsUserMetadataAndPlateauState) {
  TempDir dir;
  Trainer a(3);
  optim::ReduceLROnPlateau plateau(*a.opt, {.patience = 1});
  for (double m : {1.0, 0.5, 0.6, 0.7}) plateau.step(m);
  TrainingState s = a.state(5);
  s.plateau = &plateau;
  s.user = {{"note", "run 7"}};
  save_checkpoint(dir / "c.safetensors", s);

  Trainer b(4);
  optim::ReduceLROnPlateau plateau_b(*b.opt, {.patience = 1});
  TrainingState t = b.state();
  t.plateau = &plateau_b;
  load_checkpoint(dir / "c.safetensors", t);
  EXPECT_EQ(t.user, (Metadata{{"note", "run 7"}}));
  auto pa = plateau.state_dict(), pb = plateau_b.state_dict();
  EXPECT_EQ(pa.best, pb.best);
  EXPECT_EQ(pa.num_bad_epochs, pb.num_bad_epochs);
  EXPECT_EQ(pa.cooldown_counter, pb.cooldown_counter);
  EXPECT_EQ(pa.last_lrs, pb.last_lrs);
  EXPECT_EQ(pa.last_epoch, pb.last_epoch);
  // The file is plain safetensors: readable as such.
  EXPECT_TRUE(load(dir / "c.safetensors").contains("model/0.weight"));
}

TEST(Checkpoint, AFailedLoadChangesNothing) {
  TempDir dir;
  Trainer small(1, /*hidden=*/8);
  small.train(0, 4);
  save_checkpoint(dir / "small.safetensors", small.state(4));

  Trainer other(5);
  optim::Adam two(std::vector<Tensor>{other.model->parameters()[0]}, {.lr = 0.01});
  Trainer target(2);
  target.train(0, 2);
  auto weight = bytes_of(target.model->state_dict().at("0.weight"));
  auto moment = bytes_of(target.opt->state_dict().state.at(0).at("exp_avg"));
  double lr = target.opt->get_lr();
  auto rng = default_generator().state();
  auto unchanged = [&] {
    EXPECT_EQ(bytes_of(target.model->state_dict().at("0.weight")), weight);
    EXPECT_EQ(bytes_of(target.opt->state_dict().state.at(0).at("exp_avg")), moment);
    EXPECT_EQ(target.opt->get_lr(), lr);
    EXPECT_EQ(target.sched->last_epoch(), 0);
    EXPECT_EQ(std::memcmp(default_generator().state().s, rng.s, sizeof rng.s), 0);
  };

  TrainingState st = target.state();
  // Model shapes differ (hidden 8 vs 16).
  expect_error([&] { load_checkpoint(dir / "small.safetensors", st); },
               {"small.safetensors", "does not fit the model", "\"model/0.weight\" has shape [8, 4]"});
  unchanged();
  // Optimizer state for fewer parameters than this optimizer has: the model part fits, the
  // optimizer does not; the optimizer must not be half-loaded.
  save_checkpoint(dir / "opt.safetensors",
                  {.model = &*target.model, .optimizer = &two, .scheduler = target.sched.get()});
  expect_error([&] { load_checkpoint(dir / "opt.safetensors", st); },
               {"does not fit the optimizer", "1 parameters"});
  unchanged();
  // Another optimizer type.
  optim::SGD sgd(target.model->parameters(), {.lr = 0.1});
  save_checkpoint(dir / "sgd.safetensors", {.model = &*target.model, .optimizer = &sgd});
  expect_error([&] { load_checkpoint(dir / "sgd.safetensors", st); },
               {"holds SGD state but the optimizer is Adam"});
  unchanged();
  // A weights-only safetensors file is not a checkpoint.
  save(target.model->state_dict(), dir / "w.safetensors");
  expect_error([&] { load_checkpoint(dir / "w.safetensors", st); }, {"not a nabla checkpoint"});
  // A checkpoint without scheduler state, asked for one.
  save_checkpoint(dir / "nosched.safetensors", {.model = &*target.model, .optimizer = target.opt.get()});
  expect_error([&] { load_checkpoint(dir / "nosched.safetensors", st); }, {"has no scheduler state"});
  unchanged();
}

// Each checkpoint-level malformation, on top of the safetensors checks the file passes through.
TEST(CheckpointBad, MalformedEntriesGiveClearErrors) {
  TempDir dir;
  Trainer a(1);
  a.train(0, 1);
  save_checkpoint(dir / "good.safetensors", a.state(1));
  const auto good = load_safetensors_file(dir / "good.safetensors");
  auto with = [&](const std::string& key, const Tensor& value) {
    auto f = good;
    if (value.defined()) {
      f.tensors.insert_or_assign(key, value);
    } else {
      f.tensors.erase(key);
    }
    save(f.tensors, dir / "bad.safetensors", f.metadata);
    return dir / "bad.safetensors";
  };
  Trainer b(2);
  TrainingState st = b.state();
  auto fails = [&](const std::string& path, std::initializer_list<std::string> parts) {
    expect_error([&] { load_checkpoint(path, st); }, parts);
  };
  fails(with("rng/s", zeros({4}, kFloat32)),
        {"bad.safetensors", "\"rng/s\" has dtype float32, expected int64"});
  fails(with("rng/s", zeros({3}, kInt64)), {"\"rng/s\" has shape [3], expected 4 elements"});
  fails(with("rng/s", zeros({4}, kInt64)), {"all zeros"});
  fails(with("rng/s", Tensor()), {"missing the tensor \"rng/s\""});
  fails(with("progress/step", zeros({2}, kInt64)), {"\"progress/step\" has shape [2], expected a scalar"});
  fails(with("optimizer/state/x/exp_avg", zeros({2})),
        {"malformed optimizer entry \"optimizer/state/x/exp_avg\""});
  fails(with("optimizer/group/3/params", zeros({1}, kInt64)), {"group numbers are not 0, 1, ... (found 3)"});
  fails(with("optimizer/state/0/exp_avg", zeros({7})), {"does not fit the optimizer", "exp_avg"});
  fails(with("scheduler/base_lrs", zeros({2}, kFloat64)), {"\"scheduler/base_lrs\" has shape [2]"});
  // Truncated: a safetensors-level error naming the file.
  std::string bytes = io::read_file(dir / "good.safetensors");
  io::write_file_atomic(dir / "cut.safetensors", bytes.substr(0, bytes.size() / 2));
  fails(dir / "cut.safetensors", {"cut.safetensors", "truncated"});
}

}  // namespace
}  // namespace nabla
