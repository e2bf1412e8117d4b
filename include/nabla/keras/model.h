// keras::Model: a functional model (Input -> layers -> Model(inputs, outputs)) and the training
// API every model shares: compile, fit, evaluate, predict, summary, get/set_weights.
//   using namespace nabla::keras;
//   auto image = Input({28, 28, 1}, "image");
//   auto meta = Input({4}, "meta");
//   auto h = layers::Flatten()(layers::Conv2D(8, 3, {.activation = "relu"})(image));
//   auto joined = layers::Concatenate()({h, layers::Dense(8, "relu")(meta)});
//   Model model({image, meta}, {layers::Dense(10, "softmax")(joined)});
//   model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
//   model.fit({x_img, x_meta}, y, {.epochs = 5});
//
// fit is written with the public nn / optim / data APIs only (a DataLoader over a TensorDataset,
// optimizer.zero_grad / loss.backward / optimizer.step), so it does what a hand-written loop does.
// The training step lives in one function (Model::train_step); unless compile got run_eagerly =
// true it runs as one compiled graph (nabla::jit), with the same results as the eager step.
// Models are not copyable (they own an optimizer); parameters(), state_dict() and
// load_state_dict() come from nn::Module.
#pragma once
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "nabla/data/data_loader.h"
#include "nabla/data/pipeline.h"
#include "nabla/keras/callbacks.h"
#include "nabla/keras/layer.h"
#include "nabla/keras/losses.h"
#include "nabla/keras/metrics.h"
#include "nabla/keras/optimizers.h"

namespace nabla::keras {
namespace detail {
class BatchSource;
struct Batch;
}  // namespace detail

/// An optimizer for compile: a name ("adam"), a keras::optimizers object, or an optim::Optimizer
/// already built over the model's parameters.
class OptimizerSpec {
 public:
  OptimizerSpec(const char* name);
  OptimizerSpec(const std::string& name);
  template <typename O>
  requires std::derived_from<O, optimizers::Optimizer> OptimizerSpec(const O& recipe)
      : recipe_(std::make_shared<O>(recipe)) {}
  OptimizerSpec(std::shared_ptr<optimizers::Optimizer> recipe) : recipe_(std::move(recipe)) {}
  OptimizerSpec(std::shared_ptr<optim::Optimizer> built) : built_(std::move(built)) {}
  const std::shared_ptr<optimizers::Optimizer>& recipe() const { return recipe_; }
  const std::shared_ptr<optim::Optimizer>& built() const { return built_; }

 private:
  std::shared_ptr<optimizers::Optimizer> recipe_;
  std::shared_ptr<optim::Optimizer> built_;
};

/// A loss for compile: a name or a keras::losses object.
class LossSpec {
 public:
  LossSpec() = default;
  LossSpec(const char* name);
  LossSpec(const std::string& name);
  template <typename L>
  requires std::derived_from<L, losses::Loss> LossSpec(const L& loss) : loss_(std::make_shared<L>(loss)) {}
  LossSpec(std::shared_ptr<losses::Loss> loss) : loss_(std::move(loss)) {}
  const std::shared_ptr<losses::Loss>& get() const { return loss_; }

 private:
  std::shared_ptr<losses::Loss> loss_;
};

/// A metric for compile: a name or a keras::metrics object (shared: its state is the model's).
/// With several outputs a named metric is tracked for each output ("<output>_accuracy"); a
/// metric object applies to the first output.
class MetricSpec {
 public:
  MetricSpec(const char* name);
  MetricSpec(const std::string& name);
  MetricSpec(std::shared_ptr<metrics::Metric> metric) : metric_(std::move(metric)) {}
  template <typename M>
  requires std::derived_from<M, metrics::Metric> MetricSpec(std::shared_ptr<M> m) : metric_(std::move(m)) {}
  const std::shared_ptr<metrics::Metric>& get() const { return metric_; }
  /// The name it was given by ("" for an object).
  const std::string& id() const { return id_; }

 private:
  std::shared_ptr<metrics::Metric> metric_;
  std::string id_;
};

struct CompileOptions {
  OptimizerSpec optimizer = "rmsprop";
  /// The loss (of every output, for a model with several).
  LossSpec loss = {};
  /// One loss per output instead (models with several outputs).
  std::vector<LossSpec> losses = {};
  /// Weights of the outputs' losses in the total (default 1 each).
  std::vector<double> loss_weights = {};
  std::vector<MetricSpec> metrics = {};
  /// Run the steps eagerly (define-by-run, debuggable). Default false, as in Keras: fit's training
  /// step (forward, loss, backward, optimizer update), evaluate's step and predict run as compiled
  /// graphs (jit::compile_train_step-style, one cached graph per batch shape). A model that cannot be
  /// traced (Adagrad updates, randn / custom generators, a layer reading tensor values) runs
  /// eagerly instead, saying why when verbose.
  bool run_eagerly = false;
};

/// Validation inputs: .validation_data = {{x_val, y_val}} (or {{x_val, y_val, sample_weight}});
/// several inputs or outputs: .validation_data = ValidationData({a, b}, {y1, y2}).
class ValidationData {
 public:
  ValidationData() = default;
  /// {x, y} or {x, y, sample_weight}.
  ValidationData(std::initializer_list<Tensor> xy);
  ValidationData(Tensor x, Tensor y, Tensor sample_weight = {})
      : x({std::move(x)}), y({std::move(y)}), sample_weight(std::move(sample_weight)) {}
  ValidationData(std::vector<Tensor> xs, Tensor y, Tensor sample_weight = {})
      : x(std::move(xs)), y({std::move(y)}), sample_weight(std::move(sample_weight)) {}
  ValidationData(std::vector<Tensor> xs, std::vector<Tensor> ys, Tensor sample_weight = {})
      : x(std::move(xs)), y(std::move(ys)), sample_weight(std::move(sample_weight)) {}
  bool defined() const { return !x.empty(); }
  std::vector<Tensor> x;
  std::vector<Tensor> y;  // one per output
  Tensor sample_weight;
};

using callbacks::History;

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 32;
  /// 0 silent; 1 a progress bar on a terminal, one line per epoch otherwise; 2 one line per epoch.
  int verbose = 1;
  std::vector<std::shared_ptr<callbacks::Callback>> callbacks = {};
  /// Fraction of (x, y) held out for validation: the LAST samples, before shuffling, as in Keras.
  double validation_split = 0;
  ValidationData validation_data = {};
  bool shuffle = true;
  /// Weight of each class in the loss (and metrics): {{0, 1.0}, {1, 5.0}}.
  std::map<int64_t, double> class_weight = {};
  /// Per-sample weights [N] (combined with class_weight by multiplication).
  Tensor sample_weight = {};
  int initial_epoch = 0;
  /// Batches per epoch for a Pipeline (0: until the pipeline ends).
  int64_t steps_per_epoch = 0;
  /// Shuffle seed; by default drawn from nabla's default generator (so manual_seed fixes it).
  std::optional<uint64_t> seed = {};
  /// Background threads preparing batches (DataLoader num_workers) for in-memory tensors.
  int num_workers = 1;
};

struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 1;
  std::vector<std::shared_ptr<callbacks::Callback>> callbacks = {};
  Tensor sample_weight = {};
};

struct PredictOptions {
  int64_t batch_size = 32;
  int verbose = 0;
  std::vector<std::shared_ptr<callbacks::Callback>> callbacks = {};
};

struct SummaryOptions {
  /// Widths of the three (four with "Connected to") columns' text; grown to fit.
  std::vector<int> column_widths = {};
};

class Model : public nn::Module {
 public:
  /// A functional model from its inputs to its outputs.
  Model(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, const std::string& name = "");
  Model(const KerasTensor& input, const KerasTensor& output, const std::string& name = "")
      : Model(std::vector<KerasTensor>{input}, std::vector<KerasTensor>{output}, name) {}
  ~Model() override;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  /// The model's name ("sequential", "functional_1", ...).
  const std::string& model_name() const { return name_; }
  std::string name() const override { return type_; }
  /// Layers in order (a functional model lists its InputLayers too, as Keras does).
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
  /// The layer called `name`; throws nabla::Error listing the layer names otherwise.
  std::shared_ptr<Layer> get_layer(const std::string& name) const;
  bool built() const { return built_; }

  // ---- calling ------------------------------------------------------------------------------
  /// Eager call on one input (builds a Sequential on the first call).
  Tensor forward(Tensor x) override;
  /// All outputs for all inputs.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs);

  // ---- training -----------------------------------------------------------------------------
  void compile(const CompileOptions& options);
  bool compiled() const { return compiled_; }
  callbacks::History fit(const Tensor& x, const Tensor& y, const FitOptions& options = {});
  callbacks::History fit(const std::vector<Tensor>& x, const Tensor& y, const FitOptions& options = {});
  /// Several outputs: one target per output.
  callbacks::History fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                         const FitOptions& options = {});
  /// Batches from a DataLoader (batch_size, shuffle, validation_split are the loader's business).
  callbacks::History fit(data::DataLoader& loader, const FitOptions& options = {});
  callbacks::History fit(const data::Pipeline& pipeline, const FitOptions& options = {});
  /// Loss and metrics over (x, y), batched: {"loss": ..., "accuracy": ...}.
  Logs evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options = {});
  Logs evaluate(const std::vector<Tensor>& x, const Tensor& y, const EvaluateOptions& options = {});
  Logs evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                const EvaluateOptions& options = {});
  Logs evaluate(data::DataLoader& loader, const EvaluateOptions& options = {});
  /// Outputs for x in inference mode, batched (the first output; predict_all for every output).
  Tensor predict(const Tensor& x, const PredictOptions& options = {});
  Tensor predict(const std::vector<Tensor>& x, const PredictOptions& options = {});
  std::vector<Tensor> predict_all(const std::vector<Tensor>& x, const PredictOptions& options = {});
  Tensor predict_on_batch(const Tensor& x);
  /// One optimizer step on one batch; returns the batch's loss and metrics.
  Logs train_on_batch(const Tensor& x, const Tensor& y, const Tensor& sample_weight = {});
  Logs test_on_batch(const Tensor& x, const Tensor& y, const Tensor& sample_weight = {});
  /// The optimizer (created on the first training step when compile got a name or recipe).
  optim::Optimizer* optimizer();
  /// The loss of output 0.
  const std::shared_ptr<losses::Loss>& loss() const { return losses_.at(0); }
  /// Number of outputs.
  size_t num_outputs() const;
  /// Metric names in log order: "loss" (then "<output>_loss" per output when there are
  /// several), then the compiled metrics.
  std::vector<std::string> metrics_names() const;
  /// Set by callbacks to end fit.
  bool stop_training = false;

  // ---- weights and summary ------------------------------------------------------------------
  /// Copies of every layer's weights in Keras's order and layouts (Dense kernel [in, out]).
  std::vector<Tensor> get_weights() const;
  /// Loads weights as get_weights returns them; counts and shapes must match (nabla::Error).
  void set_weights(const std::vector<Tensor>& weights);
  int64_t count_params() const;
  /// Writes state_dict() (parameters and moving statistics) as safetensors, atomically.
  void save_weights(const std::string& path) const;
  /// Loads weights written by save_weights (or any safetensors file with the same names and
  /// shapes); on any error the model is unchanged.
  void load_weights(const std::string& path);
  /// Keras's model.save: a path ending in ".safetensors" writes the weights (save_weights); any
  /// other path is a bundle directory (nabla::export_model: graph, weights, signature with the
  /// input/output layer names and a symbolic batch) that nabla::load_model runs without this code.
  void save(const std::string& path);
  /// Keras's summary table to `os` (std::cout by default).
  void summary(std::ostream& os, const SummaryOptions& options = {}) const;
  void summary() const;
  std::string summary_string(const SummaryOptions& options = {}) const;

  /// The single training step (forward, loss, backward, optimizer step, metric updates); returns
  /// the batch loss. fit, train_on_batch and custom loops all go through it.
  virtual double train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                            const Tensor& sample_weight);
  /// One evaluation step: updates the loss trackers and metrics.
  virtual void test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                         const Tensor& sample_weight);
  /// Why the steps run eagerly although compile did not ask for run_eagerly ("" when they run
  /// compiled, or have not run yet).
  const std::string& eager_reason() const;
  /// Steps (train, test, predict batches) that ran a compiled graph rather than tracing or eager.
  int64_t compiled_graph_runs() const;

 protected:
  /// For Sequential: an empty, not yet built model of `type`.
  Model(std::string type, const std::string& prefix, const std::string& name);
  /// Runs the layers; output i stops before its final activation where logits[i] is true (an
  /// empty `logits`: full outputs).
  virtual std::vector<Flow> run(const std::vector<Tensor>& inputs, const std::vector<bool>& logits);
  /// Builds from the input shapes of a first batch (Sequential); a functional model is built.
  virtual void build_from(const std::vector<TensorShape>& input_shapes);
  /// The final activation of output i ("softmax", ...), for fusing with the loss; "linear" when
  /// another layer also reads that output.
  virtual std::string output_activation(size_t i) const;
  /// Registers layers as children under their names.
  void add_layer(const std::shared_ptr<Layer>& layer);
  /// Rows for summary: (name (type), output shape, params, connected to).
  virtual std::vector<std::vector<std::string>> summary_rows(bool& connected) const;
  /// Shape check of real inputs against the model's inputs.
  void check_inputs(const std::vector<Tensor>& xs) const;

  std::string type_, name_;
  std::vector<std::shared_ptr<Layer>> layers_;
  std::vector<TensorShape> input_shapes_;  // with the batch dim (-1)
  // dtypes of the last real inputs (check_inputs records them), so save() exports an Embedding
  // model with integer inputs; float32 for a model that has not run yet.
  mutable std::vector<DType> input_dtypes_;
  bool built_ = false;

 private:
  struct Graph;
  std::unique_ptr<Graph> graph_;  // functional models only

  void ensure_optimizer();
  void update_fusion();
  void ensure_built(const std::vector<Tensor>& x);
  callbacks::History fit_loop(detail::BatchSource& train, detail::BatchSource* val, const FitOptions& options,
                              const std::function<void(detail::Batch&)>& prepare);
  Logs evaluate_loop(detail::BatchSource& source, const EvaluateOptions& options);
  void reset_metrics();
  Logs collect_logs() const;
  std::string output_name(size_t i) const;
  /// Forward + loss of one batch (the total, and each output's loss value).
  Tensor forward_loss(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw);
  void update_metrics(const std::vector<Tensor>& y, const std::vector<Tensor>& preds, const Tensor& sw);
  /// The loss of one batch as tensors: the weighted total, each output's loss, the predictions
  /// (logits where the loss absorbs the output activation). No host reads: it is also traced.
  struct LossParts {
    Tensor total;
    std::vector<Tensor> per_output;
    std::vector<Tensor> preds;
  };
  LossParts forward_losses(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw);
  /// Adds a step's losses to the trackers and updates the metrics.
  double track(const LossParts& parts, const std::vector<Tensor>& y, const Tensor& sw, int64_t batch);
  /// Compiled steps (training_compiled.cpp): null when the step must run eagerly.
  struct Compiled;
  Compiled* compiled_steps();
  /// Runs the compiled train/test step; false when the model runs eagerly.
  bool compiled_train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw,
                           double& loss);
  bool compiled_test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& sw);
  /// Compiled forward for predict; empty when the model runs eagerly.
  std::vector<Tensor> compiled_predict(const std::vector<Tensor>& x);
  /// The compiled functions capture `this`: a moved model starts without them.
  struct CompiledSlot {
    std::shared_ptr<Compiled> p;
    CompiledSlot() = default;
    CompiledSlot(CompiledSlot&&) noexcept {}
    CompiledSlot& operator=(CompiledSlot&&) noexcept {
      p.reset();
      return *this;
    }
  };
  CompiledSlot compiled_steps_;
  int verbose_ = 0;  // of the running fit/evaluate (the eager fallback's message)

  bool compiled_ = false;
  CompileOptions compile_options_;
  std::vector<std::shared_ptr<losses::Loss>> losses_;  // one per output
  std::vector<double> loss_weights_;
  struct MetricSlot {
    size_t output;
    std::shared_ptr<metrics::Metric> metric;
  };
  std::vector<MetricSlot> metrics_;
  std::shared_ptr<optim::Optimizer> optimizer_;
  std::vector<bool> fuse_;  // per output: the loss absorbs the output activation (logits path)
  double loss_total_ = 0, loss_count_ = 0;
  std::vector<double> output_loss_total_;
};

}  // namespace nabla::keras
