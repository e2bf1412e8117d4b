// keras::Model training API: compile, fit, evaluate, predict, train_on_batch. Built only from the
// public nn / optim / data APIs (batches from keras/batch_source.h; the step is zero_grad /
// forward / loss / backward / step), and the one training step is train_step().
#include <cmath>
#include <functional>

#include "keras/batch_source.h"
#include "keras/progbar.h"
#include "nabla/autograd.h"
#include "nabla/creation.h"
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
MetricSpec::MetricSpec(const char* name) : metric_(metrics::get(name)), id_(name) {}
MetricSpec::MetricSpec(const std::string& name) : metric_(metrics::get(name)), id_(name) {}

ValidationData::ValidationData(std::initializer_list<Tensor> xy) {
  NABLA_CHECK(xy.size() == 2 || xy.size() == 3,
              "validation_data: expected {x, y} or {x, y, sample_weight}, received ", xy.size(), " tensors");
  auto it = xy.begin();
  x = {it[0]};
  y = {it[1]};
  if (xy.size() == 3) sample_weight = it[2];
}

using detail::Batch;
using detail::BatchSource;
using detail::LoaderSource;
using detail::PipelineSource;
using detail::TensorSource;

namespace {
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
  // Labels beyond the table's classes weigh 1: extend the table with ones.
  const int64_t max_label = labels.numel() ? labels.max().item<int64_t>() : 0;
  Tensor t = table;
  if (max_label >= table.numel()) t = cat({table, ones({max_label + 1 - table.numel()}, table.dtype())});
  return index_select(t, 0, labels.reshape({-1}));
}
}  // namespace

// ---- compile ---------------------------------------------------------------------------------
void Model::compile(const CompileOptions& options) {
  const size_t n = num_outputs();
  losses_.clear();
  if (!options.losses.empty()) {
    NABLA_CHECK(options.losses.size() == n, type_, " '", name_, "': compile got ", options.losses.size(),
                " losses for a model with ", n, " outputs");
    for (const auto& l : options.losses) {
      NABLA_CHECK(l.get() != nullptr, type_, " '", name_, "': compile got an empty loss");
      losses_.push_back(l.get());
    }
  } else {
    NABLA_CHECK(options.loss.get() != nullptr, type_, " '", name_, "': compile needs a loss");
    losses_.assign(n, options.loss.get());
  }
  loss_weights_ = options.loss_weights.empty() ? std::vector<double>(n, 1.0) : options.loss_weights;
  NABLA_CHECK(loss_weights_.size() == n, type_, " '", name_, "': compile got ", loss_weights_.size(),
              " loss_weights for a model with ", n, " outputs");
  metrics_.clear();
  for (const auto& m : options.metrics) {
    if (n == 1 || m.id().empty()) {
      metrics_.push_back({0, m.get()});
      continue;
    }
    for (size_t i = 0; i < n; ++i)
      metrics_.push_back({i, metrics::get(m.id(), output_name(i) + "_" + m.id())});
  }
  compile_options_ = options;
  compiled_steps_.p.reset();               // new losses/optimizer: trace again
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
  if (losses_.size() > 1)
    for (size_t i = 0; i < losses_.size(); ++i) names.push_back(output_name(i) + "_loss");
  for (const auto& m : metrics_) names.push_back(m.metric->name());
  return names;
}

void Model::reset_metrics() {
  loss_total_ = loss_count_ = 0;
  output_loss_total_.assign(losses_.size(), 0.0);
  for (auto& m : metrics_) m.metric->reset_state();
}

Logs Model::collect_logs() const {
  Logs logs;
  const double n = loss_count_ > 0 ? loss_count_ : 1.0;
  logs["loss"] = loss_total_ / n;
  if (losses_.size() > 1)
    for (size_t i = 0; i < losses_.size(); ++i) logs[output_name(i) + "_loss"] = output_loss_total_[i] / n;
  for (const auto& m : metrics_) logs[m.metric->name()] = m.metric->result();
  return logs;
}

void Model::update_fusion() {
  // softmax + categorical cross-entropy (sigmoid + binary) are computed from the logits.
  fuse_.assign(losses_.size(), false);
  for (size_t i = 0; i < losses_.size(); ++i)
    fuse_[i] = !losses_[i]->from_logits() && !losses_[i]->fusable_activation().empty() &&
               losses_[i]->fusable_activation() == output_activation(i);
}

Model::LossParts Model::forward_losses(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                                       const Tensor& sw) {
  NABLA_CHECK(y.size() == losses_.size(), type_, " '", name_, "': expected ", losses_.size(),
              " target(s), one per output, received ", y.size());
  auto flows = run(x, fuse_);
  LossParts parts;
  for (auto& f : flows) parts.preds.push_back(channels_last(f));
  for (size_t i = 0; i < parts.preds.size(); ++i) {
    const bool logits = fuse_[i] || losses_[i]->from_logits();
    Tensor li;
    if (!sw.defined()) {
      li = losses_[i]->mean(y[i], parts.preds[i], logits);
    } else {
      Tensor per = losses_[i]->per_sample(y[i], parts.preds[i], logits);
      NABLA_CHECK(sw.numel() == per.numel(), type_, " '", name_, "': expected ", per.numel(),
                  " sample weights, received ", sw.numel());
      li = (per * sw.reshape(per.shape()).to(per.dtype())).mean();  // Keras: sum(w * loss) / batch size
    }
    parts.per_output.push_back(li);
    Tensor weighted = loss_weights_[i] == 1.0 ? li : li * loss_weights_[i];
    parts.total = parts.total.defined() ? parts.total + weighted : weighted;
  }
  return parts;
}

double Model::track(const LossParts& parts, const std::vector<Tensor>& y, const Tensor& sw, int64_t batch) {
  const double n = static_cast<double>(batch);
  if (losses_.size() > 1)
    for (size_t i = 0; i < losses_.size(); ++i)
      output_loss_total_[i] += parts.per_output[i].item<double>() * n;
  update_metrics(y, parts.preds, sw);
  const double value = parts.total.item<double>();
  loss_total_ += value * n, loss_count_ += n;
  return value;
}

void Model::update_metrics(const std::vector<Tensor>& y, const std::vector<Tensor>& preds, const Tensor& sw) {
  if (metrics_.empty()) return;
  NoGradGuard no_grad;
  std::vector<Tensor> probs(preds.size());
  for (auto& m : metrics_) {
    const size_t i = m.output;
    Tensor p = preds[i].detach();
    if (fuse_[i] && m.metric->needs_probabilities()) {
      if (!probs[i].defined()) probs[i] = activations::get(output_activation(i))(p);
      p = probs[i];
    }
    m.metric->update_state(y[i], p, sw);
  }
}

// ---- the steps -------------------------------------------------------------------------------
double Model::train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw) {
  double value = 0;
  if (compiled_train_step(x, y, sw, value)) return value;
  optimizer_->zero_grad();
  LossParts parts = forward_losses(x, y, sw);
  parts.total.backward();
  optimizer_->step();
  return track(parts, y, sw, x[0].size(0));
}

void Model::test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw) {
  if (compiled_test_step(x, y, sw)) return;
  track(forward_losses(x, y, sw), y, sw, x[0].size(0));
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
  return fit(std::vector<Tensor>{x}, std::vector<Tensor>{y}, options);
}

callbacks::History Model::fit(const std::vector<Tensor>& x, const Tensor& y, const FitOptions& options) {
  return fit(x, std::vector<Tensor>{y}, options);
}

callbacks::History Model::fit(const std::vector<Tensor>& x_all, const std::vector<Tensor>& y_all,
                              const FitOptions& o) {
  NABLA_CHECK(compiled_, type_, " '", name_, "': call compile() before fit()");
  NABLA_CHECK(!x_all.empty() && x_all[0].defined() && !y_all.empty(), type_, " '", name_,
              "': fit needs x and y tensors");
  NABLA_CHECK(o.validation_split >= 0 && o.validation_split < 1,
              "fit: validation_split must be in [0, 1), got ", o.validation_split);
  std::vector<Tensor> x = x_all, y = y_all, x_val = o.validation_data.x, y_val = o.validation_data.y;
  Tensor sw = o.sample_weight, sw_val = o.validation_data.sample_weight;
  if (o.validation_split > 0) {
    NABLA_CHECK(!o.validation_data.defined(), "fit: give validation_split or validation_data, not both");
    // Keras holds out the LAST fraction of the samples, before any shuffling.
    const int64_t n = x[0].size(0);
    const int64_t split = static_cast<int64_t>(std::floor(double(n) * (1.0 - o.validation_split)));
    NABLA_CHECK(split > 0 && split < n, "fit: validation_split ", o.validation_split, " of ", n,
                " samples leaves an empty training or validation set");
    x_val.clear(), y_val.clear();
    for (auto& t : x) x_val.push_back(t.narrow(0, split, n - split)), t = t.narrow(0, 0, split);
    for (auto& t : y) y_val.push_back(t.narrow(0, split, n - split)), t = t.narrow(0, 0, split);
    if (sw.defined()) sw = sw.reshape({-1}).narrow(0, 0, split);
  }
  ensure_built(x);
  const uint64_t seed = o.seed ? *o.seed : default_generator().next_u64();
  TensorSource train(x, y, sw, o.batch_size, o.shuffle, seed, o.num_workers);
  std::unique_ptr<TensorSource> val;
  if (!x_val.empty()) {
    check_inputs(x_val);
    val = std::make_unique<TensorSource>(x_val, y_val, sw_val, o.batch_size, false, 0, 0);
  }
  Tensor table;
  if (!o.class_weight.empty()) {
    NABLA_CHECK(y.size() == 1, "fit: class_weight needs a single-output model (use sample_weight)");
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
    Tensor cw = class_weights_for(b.y[0], table);
    b.sw = b.sw.defined() ? b.sw.reshape({-1}).to(kFloat32) * cw : cw;
  });
}

namespace {
/// The first batch's inputs, to build a model fed from a Pipeline.
std::vector<Tensor> peek(data::Pipeline& p) {
  for (auto& [data, target] : p) return {data};
  return {};
}
}  // namespace

callbacks::History Model::fit(data::DataLoader& loader, const FitOptions& o) {
  NABLA_CHECK(compiled_, type_, " '", name_, "': call compile() before fit()");
  NABLA_CHECK(o.validation_split == 0,
              "fit: validation_split needs tensors; with a DataLoader pass validation_data");
  if (!built_) {
    auto e = loader.dataset().get(0);
    Shape s{1};
    for (int64_t d : e.data.shape()) s.push_back(d);
    ensure_built({zeros(s, e.data.dtype())});
  }
  LoaderSource train(loader);
  std::unique_ptr<TensorSource> val;
  if (o.validation_data.defined())
    val = std::make_unique<TensorSource>(o.validation_data.x, o.validation_data.y,
                                         o.validation_data.sample_weight, o.batch_size, false, 0, 0);
  return fit_loop(train, val.get(), o, [](Batch&) {});
}

callbacks::History Model::fit(const data::Pipeline& pipeline, const FitOptions& o) {
  NABLA_CHECK(compiled_, type_, " '", name_, "': call compile() before fit()");
  NABLA_CHECK(o.validation_split == 0,
              "fit: validation_split needs tensors; with a Pipeline pass validation_data");
  if (!built_) {
    data::Pipeline p = pipeline;
    auto first = peek(p);
    NABLA_CHECK(!first.empty(), "fit: the pipeline is empty");
    ensure_built(first);
  }
  PipelineSource train(pipeline, o.steps_per_epoch);
  std::unique_ptr<TensorSource> val;
  if (o.validation_data.defined())
    val = std::make_unique<TensorSource>(o.validation_data.x, o.validation_data.y,
                                         o.validation_data.sample_weight, o.batch_size, false, 0, 0);
  return fit_loop(train, val.get(), o, [](Batch&) {});
}

callbacks::History Model::fit_loop(BatchSource& source, BatchSource* val, const FitOptions& o,
                                   const std::function<void(Batch&)>& prepare) {
  NABLA_CHECK(o.epochs >= 0 && o.initial_epoch >= 0, "fit: epochs and initial_epoch must be non-negative");
  ensure_optimizer();
  verbose_ = o.verbose;
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
  return evaluate(std::vector<Tensor>{x}, std::vector<Tensor>{y}, o);
}

Logs Model::evaluate(const std::vector<Tensor>& x, const Tensor& y, const EvaluateOptions& o) {
  return evaluate(x, std::vector<Tensor>{y}, o);
}

Logs Model::evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const EvaluateOptions& o) {
  NABLA_CHECK(!x.empty() && !y.empty(), type_, " '", name_, "': evaluate needs x and y");
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
  TensorSource source(x, {}, Tensor(), o.batch_size, false, 0, 0);
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
    std::vector<Tensor> out = compiled_predict(b.x);
    if (out.empty())
      for (auto& f : run(b.x, {})) out.push_back(channels_last(f).contiguous());
    if (parts.empty()) parts.resize(out.size());
    for (size_t i = 0; i < out.size(); ++i) parts[i].push_back(out[i]);
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

Tensor Model::predict(const std::vector<Tensor>& x, const PredictOptions& o) {
  return predict_all(x, o).at(0);
}
Tensor Model::predict(const Tensor& x, const PredictOptions& o) { return predict_all({x}, o).at(0); }

Tensor Model::predict_on_batch(const Tensor& x) {
  ensure_built({x});
  const bool was_training = is_training();
  eval();
  NoGradGuard no_grad;
  std::vector<Tensor> out = compiled_predict({x});
  Tensor y = out.empty() ? channels_last(run({x}, {})[0]).contiguous() : out[0];
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
  train_step({x}, {y}, sample_weight);
  train(was_training);
  return collect_logs();
}

Logs Model::test_on_batch(const Tensor& x, const Tensor& y, const Tensor& sample_weight) {
  ensure_built({x});
  TensorSource source({x}, {y}, sample_weight, x.size(0), false, 0, 0);
  return evaluate_loop(source, {.batch_size = x.size(0), .verbose = 0});
}

}  // namespace nabla::keras
