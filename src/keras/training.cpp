// keras::Model training API: compile, fit, evaluate, predict, train_on_batch. Built only from the
// public nn / optim / data APIs: batches come from a data::DataLoader over a TensorDataset (or a
// sampler + index_select for several inputs), and the step is zero_grad / forward / loss /
// backward / step, all in train_step().
#include <cmath>
#include <functional>

#include "keras/progbar.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/data/samplers.h"
#include "nabla/data/tensor_dataset.h"
#include "nabla/generator.h"
#include "nabla/keras/activations.h"
#include "nabla/keras/model.h"
#include "nabla/ops.h"

namespace nabla::keras {

// ---- compile specs ---------------------------------------------------------------------------
OptimizerSpec::OptimizerSpec(const char* name) : recipe_(optimizers::get(name)) {}
OptimizerSpec::OptimizerSpec(const std::string& name) : recipe_(optimizers::get(name)) {}
LossSpec::LossSpec(const char* name) : loss_(losses::get(name)) {}
LossSpec::LossSpec(const std::string& name) : loss_(losses::get(name)) {}
MetricSpec::MetricSpec(const char* name) : metric_(metrics::get(name)) {}
MetricSpec::MetricSpec(const std::string& name) : metric_(metrics::get(name)) {}

ValidationData::ValidationData(std::initializer_list<Tensor> xy) {
  NABLA_CHECK(xy.size() == 2 || xy.size() == 3, "validation_data: expected {x, y} or {x, y, sample_weight}, "
              "received ", xy.size(), " tensors");
  auto it = xy.begin();
  x = {it[0]};
  y = it[1];
  if (xy.size() == 3) sample_weight = it[2];
}

namespace detail {
struct Batch {
  std::vector<Tensor> x;
  Tensor y, sw;
};

/// One epoch's batches, whatever their source.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  /// Steps per epoch, -1 when unknown (a Pipeline).
  virtual int64_t steps() const = 0;
  /// Calls fn for each batch of epoch `epoch` until it returns false.
  virtual void run(int64_t epoch, const std::function<bool(Batch&)>& fn) = 0;
};

/// In-memory tensors. With one input and no sample weights the batches come from a DataLoader
/// over a TensorDataset (the same object a hand-written loop would use); otherwise from a
/// RandomSampler / SequentialSampler and index_select.
class TensorSource : public BatchSource {
 public:
  TensorSource(std::vector<Tensor> x, Tensor y, Tensor sw, int64_t batch_size, bool shuffle, uint64_t seed,
               int num_workers)
      : x_(std::move(x)), y_(std::move(y)), sw_(std::move(sw)), batch_(batch_size), shuffle_(shuffle), seed_(seed) {
    NABLA_CHECK(batch_size > 0, "fit: batch_size must be positive, got ", batch_size);
    n_ = x_[0].size(0);
    for (const auto& t : x_)
      NABLA_CHECK(t.size(0) == n_, "fit: every input needs the same number of samples, received ", n_, " and ",
                  t.size(0));
    NABLA_CHECK(!y_.defined() || y_.size(0) == n_, "fit: x has ", n_, " samples but y has ", y_.size(0));
    NABLA_CHECK(!sw_.defined() || sw_.numel() == n_, "fit: x has ", n_, " samples but sample_weight has ",
                sw_.numel());
    if (x_.size() == 1 && !sw_.defined() && shuffle_) {
      loader_ = std::make_unique<data::DataLoader>(
          data::TensorDataset(x_[0], y_),
          data::DataLoaderOptions{.batch_size = batch_, .shuffle = true, .num_workers = num_workers, .seed = seed_});
    }
  }
  int64_t steps() const override { return (n_ + batch_ - 1) / batch_; }
  void run(int64_t epoch, const std::function<bool(Batch&)>& fn) override {
    Batch b;
    if (loader_) {
      loader_->set_epoch(epoch);
      for (auto& [data, target] : *loader_) {
        b.x = {data};
        b.y = target;
        if (!fn(b)) break;
      }
      return;
    }
    if (!shuffle_) {  // contiguous slices: views, no copies
      for (int64_t s = 0; s < n_; s += batch_) {
        const int64_t len = std::min(batch_, n_ - s);
        b.x.clear();
        for (const auto& t : x_) b.x.push_back(t.narrow(0, s, len));
        b.y = y_.defined() ? y_.narrow(0, s, len) : Tensor();
        b.sw = sw_.defined() ? sw_.reshape({-1}).narrow(0, s, len) : Tensor();
        if (!fn(b)) return;
      }
      return;
    }
    auto order = data::RandomSampler(n_, seed_).indices(epoch);
    for (int64_t s = 0; s < n_; s += batch_) {
      const int64_t len = std::min(batch_, n_ - s);
      Tensor idx = tensor(std::vector<int64_t>(order.begin() + s, order.begin() + s + len));
      b.x.clear();
      for (const auto& t : x_) b.x.push_back(index_select(t, 0, idx));
      b.y = y_.defined() ? index_select(y_, 0, idx) : Tensor();
      b.sw = sw_.defined() ? index_select(sw_.reshape({-1}), 0, idx) : Tensor();
      if (!fn(b)) return;
    }
  }

 private:
  std::vector<Tensor> x_;
  Tensor y_, sw_;
  int64_t batch_, n_ = 0;
  bool shuffle_;
  uint64_t seed_;
  std::unique_ptr<data::DataLoader> loader_;
};

class LoaderSource : public BatchSource {
 public:
  explicit LoaderSource(data::DataLoader& loader) : loader_(loader) {}
  int64_t steps() const override { return loader_.size(); }
  void run(int64_t, const std::function<bool(Batch&)>& fn) override {
    Batch b;
    for (auto& [data, target] : loader_) {
      b.x = {data};
      b.y = target;
      if (!fn(b)) break;
    }
  }

 private:
  data::DataLoader& loader_;
};

class PipelineSource : public BatchSource {
 public:
  PipelineSource(const data::Pipeline& p, int64_t steps) : pipeline_(p), steps_(steps) {}
  int64_t steps() const override { return steps_ > 0 ? steps_ : -1; }
  void run(int64_t, const std::function<bool(Batch&)>& fn) override {
    Batch b;
    int64_t i = 0;
    for (auto& [data, target] : pipeline_) {
      b.x = {data};
      b.y = target;
      if (!fn(b) || (steps_ > 0 && ++i >= steps_)) break;
    }
  }

 private:
  data::Pipeline pipeline_;
  int64_t steps_;
};
}  // namespace detail

namespace {
using detail::Batch;
using detail::BatchSource;
using detail::LoaderSource;
using detail::PipelineSource;
using detail::TensorSource;

/// The callbacks of one fit/evaluate/predict call, called in order.
struct CallbackList {
  std::vector<std::shared_ptr<callbacks::Callback>> list;
  template <typename Fn>
  void each(Fn&& fn) {
    for (auto& c : list) fn(*c);
  }
};

TensorShape batchless_shape(const Tensor& t) {
  TensorShape s(t.shape().begin(), t.shape().end());
  if (!s.empty()) s[0] = -1;
  return s;
}

/// Per-sample weights from class_weight: the weight of each sample's class (argmax of one-hot
/// targets, else the integer label); classes not listed weigh 1.
Tensor class_weights_for(const Tensor& y, const Tensor& table) {
  Tensor labels = (y.dim() >= 2 && y.size(-1) > 1) ? y.argmax(-1) : y.reshape({-1});
  if (labels.dtype() != kInt64) labels = labels.to(kInt64);
  return index_select(table, 0, labels.reshape({-1}));
}
}  // namespace

// ---- compile ---------------------------------------------------------------------------------
void Model::compile(const CompileOptions& options) {
  NABLA_CHECK(options.loss.get() != nullptr, type_, " '", name_, "': compile needs a loss");
  compile_options_ = options;
  loss_ = options.loss.get();
  metrics_.clear();
  for (const auto& m : options.metrics) metrics_.push_back(m.get());
  optimizer_ = options.optimizer.built();  // else created from the recipe once the model is built
  compiled_ = true;
}

void Model::ensure_optimizer() {
  if (optimizer_) return;
  NABLA_CHECK(built_, type_, " '", name_, "': the model must be built before its optimizer can be created");
  optimizer_ = compile_options_.optimizer.recipe()->create(parameters());
}

optim::Optimizer* Model::optimizer() {
  if (compiled_ && built_) ensure_optimizer();
  return optimizer_.get();
}

std::vector<std::string> Model::metrics_names() const {
  std::vector<std::string> names{"loss"};
  for (const auto& m : metrics_) names.push_back(m->name());
  return names;
}

void Model::reset_metrics() {
  loss_total_ = loss_count_ = 0;
  for (auto& m : metrics_) m->reset_state();
}

Logs Model::collect_logs() const {
  Logs logs;
  logs["loss"] = loss_count_ > 0 ? loss_total_ / loss_count_ : 0.0;
  for (const auto& m : metrics_) logs[m->name()] = m->result();
  return logs;
}

void Model::update_fusion() {
  // softmax + categorical cross-entropy (sigmoid + binary) are computed from the logits.
  fuse_output_ = !loss_->from_logits() && !loss_->fusable_activation().empty() &&
                 loss_->fusable_activation() == output_activation();
}

Tensor Model::compute_loss(const Tensor& y, const Tensor& pred, bool logits, const Tensor& sw) const {
  Tensor per = loss_->per_sample(y, pred, logits);
  if (!sw.defined()) return per.mean();
  NABLA_CHECK(sw.numel() == per.numel(), type_, " '", name_, "': expected ", per.numel(),
              " sample weights, received ", sw.numel());
  return (per * sw.reshape(per.shape()).to(per.dtype())).mean();  // Keras: sum(w * loss) / batch size
}

void Model::update_metrics(const Tensor& y, const Tensor& pred, bool pred_is_logits, const Tensor& sw) {
  if (metrics_.empty()) return;
  NoGradGuard no_grad;
  Tensor p = pred.detach(), probs;
  for (auto& m : metrics_) {
    if (pred_is_logits && m->needs_probabilities()) {
      if (!probs.defined()) probs = activations::get(output_activation())(p);
      m->update_state(y, probs, sw);
    } else {
      m->update_state(y, p, sw);
    }
  }
}

// ---- the steps -------------------------------------------------------------------------------
double Model::train_step(const std::vector<Tensor>& x, const Tensor& y, const Tensor& sw) {
  optimizer_->zero_grad();
  Tensor pred = channels_last(run(x, fuse_output_)[0]);
  Tensor loss = compute_loss(y, pred, fuse_output_ || loss_->from_logits(), sw);
  loss.backward();
  optimizer_->step();
  const double value = loss.item<double>();
  const double n = static_cast<double>(x[0].size(0));
  loss_total_ += value * n, loss_count_ += n;
  update_metrics(y, pred, fuse_output_, sw);
  return value;
}

void Model::test_step(const std::vector<Tensor>& x, const Tensor& y, const Tensor& sw) {
  Tensor pred = channels_last(run(x, fuse_output_)[0]);
  const double value = compute_loss(y, pred, fuse_output_ || loss_->from_logits(), sw).item<double>();
  const double n = static_cast<double>(x[0].size(0));
  loss_total_ += value * n, loss_count_ += n;
  update_metrics(y, pred, fuse_output_, sw);
}

// ---- fit -------------------------------------------------------------------------------------
void Model::ensure_built(const std::vector<Tensor>& x) {
  if (!built_) {
    std::vector<TensorShape> shapes;
    for (const auto& t : x) shapes.push_back(batchless_shape(t));
    build_from(shapes);
  }
  check_inputs(x);
}

callbacks::History Model::fit(const Tensor& x, const Tensor& y, const FitOptions& options) {
  return fit(std::vector<Tensor>{x}, y, options);
}

callbacks::History Model::fit(const std::vector<Tensor>& x_all, const Tensor& y_all, const FitOptions& o) {
  NABLA_CHECK(compiled_, type_, " '", name_, "': call compile() before fit()");
  NABLA_CHECK(!x_all.empty() && x_all[0].defined() && y_all.defined(), type_, " '", name_,
              "': fit needs x and y tensors");
  NABLA_CHECK(o.validation_split >= 0 && o.validation_split < 1, "fit: validation_split must be in [0, 1), got ",
              o.validation_split);
  std::vector<Tensor> x = x_all, x_val = o.validation_data.x;
  Tensor y = y_all, sw = o.sample_weight, y_val = o.validation_data.y, sw_val = o.validation_data.sample_weight;
  if (o.validation_split > 0) {
    NABLA_CHECK(!o.validation_data.defined(), "fit: give validation_split or validation_data, not both");
    // Keras holds out the LAST fraction of the samples, before any shuffling.
    const int64_t n = x[0].size(0);
    const int64_t split = static_cast<int64_t>(std::floor(double(n) * (1.0 - o.validation_split)));
    NABLA_CHECK(split > 0 && split < n, "fit: validation_split ", o.validation_split, " of ", n,
                " samples leaves an empty training or validation set");
    x_val.clear();
    for (auto& t : x) x_val.push_back(t.narrow(0, split, n - split)), t = t.narrow(0, 0, split);
    y_val = y.narrow(0, split, n - split), y = y.narrow(0, 0, split);
    if (sw.defined()) sw = sw.reshape({-1}).narrow(0, 0, split);
  }
  ensure_built(x);
  const uint64_t seed = o.seed ? *o.seed : default_generator().next_u64();
  TensorSource train(x, y, sw, o.batch_size, o.shuffle, seed, o.num_workers);
  std::unique_ptr<TensorSource> val;
  if (!x_val.empty()) {
    check_inputs(x_val);
    NABLA_CHECK(y_val.defined(), "fit: validation_data needs targets");
    val = std::make_unique<TensorSource>(x_val, y_val, sw_val, o.batch_size, false, 0, 0);
  }
  Tensor table;
  if (!o.class_weight.empty()) {
    int64_t max_class = 0;
    for (const auto& [c, w] : o.class_weight) {
      NABLA_CHECK(c >= 0, "fit: class_weight keys must be non-negative class indices, got ", c);
      max_class = std::max(max_class, c);
    }
    std::vector<float> t(max_class + 1, 1.0f);
    for (const auto& [c, w] : o.class_weight) t[c] = static_cast<float>(w);
    table = tensor(t);
  }
  return fit_loop(train, val.get(), o, [&](Batch& b) {
    if (!table.defined()) return;
    Tensor cw = class_weights_for(b.y, table);
    b.sw = b.sw.defined() ? b.sw.reshape({-1}).to(kFloat32) * cw : cw;
  });
}

namespace {
/// The first batch's input shape, to build a model fed from a DataLoader or Pipeline.
template <typename Iterable>
std::vector<Tensor> peek(Iterable& it) {
  for (auto& [data, target] : it) return {data};
  return {};
}
}  // namespace

callbacks::History Model::fit(data::DataLoader& loader, const FitOptions& o) {
  NABLA_CHECK(compiled_, type_, " '", name_, "': call compile() before fit()");
  NABLA_CHECK(o.validation_split == 0, "fit: validation_split needs tensors; with a DataLoader pass "
                                       "validation_data");
  if (!built_) {
    auto e = loader.dataset().get(0);
    Shape s{1};
    for (int64_t d : e.data.shape()) s.push_back(d);
    ensure_built({zeros(s, e.data.dtype())});
  }
  LoaderSource train(loader);
  std::unique_ptr<TensorSource> val;
  if (o.validation_data.defined())
    val = std::make_unique<TensorSource>(o.validation_data.x, o.validation_data.y, o.validation_data.sample_weight,
                                         o.batch_size, false, 0, 0);
  return fit_loop(train, val.get(), o, [](Batch&) {});
}

callbacks::History Model::fit(const data::Pipeline& pipeline, const FitOptions& o) {
  NABLA_CHECK(compiled_, type_, " '", name_, "': call compile() before fit()");
  NABLA_CHECK(o.validation_split == 0, "fit: validation_split needs tensors; with a Pipeline pass "
                                       "validation_data");
  if (!built_) {
    data::Pipeline p = pipeline;
    auto first = peek(p);
    NABLA_CHECK(!first.empty(), "fit: the pipeline is empty");
    ensure_built(first);
  }
  PipelineSource train(pipeline, o.steps_per_epoch);
  std::unique_ptr<TensorSource> val;
  if (o.validation_data.defined())
    val = std::make_unique<TensorSource>(o.validation_data.x, o.validation_data.y, o.validation_data.sample_weight,
                                         o.batch_size, false, 0, 0);
  return fit_loop(train, val.get(), o, [](Batch&) {});
}

callbacks::History Model::fit_loop(BatchSource& source, BatchSource* val, const FitOptions& o,
                        const std::function<void(Batch&)>& prepare) {
  NABLA_CHECK(o.epochs >= 0 && o.initial_epoch >= 0, "fit: epochs and initial_epoch must be non-negative");
  // Graph-mode steps are not available yet: every step runs eagerly (compile's run_eagerly).
  ensure_optimizer();
  update_fusion();
  auto history = std::make_shared<callbacks::History>();
  CallbackList cbs{o.callbacks};
  cbs.list.push_back(history);
  cbs.each([&](callbacks::Callback& c) { c.set_model(this); });
  stop_training = false;
  const auto names = metrics_names();
  Logs logs;
  cbs.each([&](callbacks::Callback& c) { c.on_train_begin(logs); });
  const bool was_training = is_training();
  for (int epoch = o.initial_epoch; epoch < o.epochs && !stop_training; ++epoch) {
    if (o.verbose) std::printf("Epoch %d/%d\n", epoch + 1, o.epochs), std::fflush(stdout);
    Logs epoch_logs;
    cbs.each([&](callbacks::Callback& c) { c.on_epoch_begin(epoch, epoch_logs); });
    reset_metrics();
    train(true);
    detail::Progbar bar(source.steps(), o.verbose);
    int64_t step = 0;
    Logs batch_logs;
    source.run(epoch, [&](Batch& b) {
      prepare(b);
      cbs.each([&](callbacks::Callback& c) { c.on_train_batch_begin(step, batch_logs); });
      train_step(b.x, b.y, b.sw);
      batch_logs = collect_logs();
      cbs.each([&](callbacks::Callback& c) { c.on_train_batch_end(step, batch_logs); });
      ++step;
      bar.update(step, batch_logs, names);
      return !stop_training;
    });
    epoch_logs = collect_logs();
    if (val) {
      Logs v = evaluate_loop(*val, {.batch_size = o.batch_size, .verbose = 0});
      for (const auto& [k, value] : v) epoch_logs["val_" + k] = value;
      train(true);
    }
    cbs.each([&](callbacks::Callback& c) { c.on_epoch_end(epoch, epoch_logs); });
    bar.finish(epoch_logs, names);
  }
  cbs.each([&](callbacks::Callback& c) { c.on_train_end(logs); });
  train(was_training);
  return *history;
}

// ---- evaluate, predict ----------------------------------------------------------------------
Logs Model::evaluate_loop(BatchSource& source, const EvaluateOptions& o) {
  NABLA_CHECK(compiled_, type_, " '", name_, "': call compile() before evaluate()");
  update_fusion();
  CallbackList cbs{o.callbacks};
  cbs.each([&](callbacks::Callback& c) { c.set_model(this); });
  const bool was_training = is_training();
  eval();
  NoGradGuard no_grad;
  reset_metrics();
  Logs logs;
  cbs.each([&](callbacks::Callback& c) { c.on_test_begin(logs); });
  detail::Progbar bar(source.steps(), o.verbose);
  const auto names = metrics_names();
  int64_t step = 0;
  source.run(0, [&](Batch& b) {
    cbs.each([&](callbacks::Callback& c) { c.on_test_batch_begin(step, logs); });
    test_step(b.x, b.y, b.sw);
    logs = collect_logs();
    cbs.each([&](callbacks::Callback& c) { c.on_test_batch_end(step, logs); });
    bar.update(++step, logs, names);
    return true;
  });
  logs = collect_logs();
  cbs.each([&](callbacks::Callback& c) { c.on_test_end(logs); });
  bar.finish(logs, names);
  train(was_training);
  return logs;
}

Logs Model::evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& o) {
  return evaluate(std::vector<Tensor>{x}, y, o);
}

Logs Model::evaluate(const std::vector<Tensor>& x, const Tensor& y, const EvaluateOptions& o) {
  NABLA_CHECK(!x.empty() && y.defined(), type_, " '", name_, "': evaluate needs x and y");
  ensure_built(x);
  TensorSource source(x, y, o.sample_weight, o.batch_size, false, 0, 0);
  return evaluate_loop(source, o);
}

Logs Model::evaluate(data::DataLoader& loader, const EvaluateOptions& o) {
  LoaderSource source(loader);
  return evaluate_loop(source, o);
}

std::vector<Tensor> Model::predict_all(const std::vector<Tensor>& x, const PredictOptions& o) {
  ensure_built(x);
  TensorSource source(x, Tensor(), Tensor(), o.batch_size, false, 0, 0);
  CallbackList cbs{o.callbacks};
  cbs.each([&](callbacks::Callback& c) { c.set_model(this); });
  const bool was_training = is_training();
  eval();
  NoGradGuard no_grad;
  Logs logs;
  cbs.each([&](callbacks::Callback& c) { c.on_predict_begin(logs); });
  detail::Progbar bar(source.steps(), o.verbose);
  std::vector<std::vector<Tensor>> parts;
  int64_t step = 0;
  source.run(0, [&](Batch& b) {
    cbs.each([&](callbacks::Callback& c) { c.on_predict_batch_begin(step, logs); });
    auto out = run(b.x, false);
    if (parts.empty()) parts.resize(out.size());
    for (size_t i = 0; i < out.size(); ++i) parts[i].push_back(channels_last(out[i]).contiguous());
    cbs.each([&](callbacks::Callback& c) { c.on_predict_batch_end(step, logs); });
    bar.update(++step, logs, {});
    return true;
  });
  cbs.each([&](callbacks::Callback& c) { c.on_predict_end(logs); });
  bar.finish(logs, {});
  train(was_training);
  std::vector<Tensor> out;
  for (auto& p : parts) out.push_back(p.size() == 1 ? p[0] : cat(p, 0));
  return out;
}

Tensor Model::predict(const std::vector<Tensor>& x, const PredictOptions& o) { return predict_all(x, o).at(0); }
Tensor Model::predict(const Tensor& x, const PredictOptions& o) { return predict_all({x}, o).at(0); }

Tensor Model::predict_on_batch(const Tensor& x) {
  ensure_built({x});
  const bool was_training = is_training();
  eval();
  NoGradGuard no_grad;
  Tensor y = channels_last(run({x}, false)[0]).contiguous();
  train(was_training);
  return y;
}

Logs Model::train_on_batch(const Tensor& x, const Tensor& y, const Tensor& sample_weight) {
  NABLA_CHECK(compiled_, type_, " '", name_, "': call compile() before train_on_batch()");
  ensure_built({x});
  ensure_optimizer();
  update_fusion();
  reset_metrics();
  const bool was_training = is_training();
  train(true);
  train_step({x}, y, sample_weight);
  train(was_training);
  return collect_logs();
}

Logs Model::test_on_batch(const Tensor& x, const Tensor& y, const Tensor& sample_weight) {
  ensure_built({x});
  TensorSource source({x}, y, sample_weight, x.size(0), false, 0, 0);
  return evaluate_loop(source, {.batch_size = x.size(0), .verbose = 0});
}

}  // namespace nabla::keras
