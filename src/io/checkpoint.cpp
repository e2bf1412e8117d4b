// Training checkpoints as one safetensors file (layout in include/nabla/io/checkpoint.h). Every
// number that affects the next step is stored bit-exactly as a tensor (int64 or float64), never as
// decimal text, so a resumed run is bit-identical. Loading builds and checks every part before it
// applies any, and rolls the optimizer and schedulers back if a later part fails.
#include "nabla/io/checkpoint.h"

#include <charconv>
#include <cstring>
#include <sstream>

#include "nabla/creation.h"

namespace nabla {
namespace {

constexpr const char* kFormatKey = "nabla.checkpoint";
constexpr const char* kFormatVersion = "1";

Tensor i64(int64_t v) { return from_buffer(&v, Shape{}, kInt64); }
Tensor f64(double v) { return from_buffer(&v, Shape{}, kFloat64); }
Tensor f64s(const std::vector<double>& v) {
  return from_buffer(v.data(), Shape{int64_t(v.size())}, kFloat64);
}

// Reads the checkpoint's tensors, with errors that name the file and the entry.
class Reader {
 public:
  Reader(const std::string& path, io::SafetensorsFile f) : path_(path), f_(std::move(f)) {}

  [[noreturn]] void fail(const std::string& msg) const {
    detail::throw_error("checkpoint ", path_, ": ", msg);
  }
  bool has(const std::string& key) const { return f_.tensors.contains(key); }
  const Tensor& get(const std::string& key, DType dtype, int64_t numel = -1, int dim = -1) const {
    const Tensor* t = f_.tensors.find(key);
    if (!t) fail("missing the tensor \"" + key + "\"");
    if (t->dtype() != dtype)
      fail("\"" + key + "\" has dtype " + dtype_name(t->dtype()) + ", expected " + dtype_name(dtype));
    if ((numel >= 0 && t->numel() != numel) || (dim >= 0 && t->dim() != dim)) {
      std::ostringstream os;
      os << "\"" << key << "\" has shape " << t->shape() << ", expected "
         << (dim == 0 ? "a scalar" : std::to_string(numel) + " elements");
      fail(os.str());
    }
    return *t;
  }
  int64_t get_i64(const std::string& key) const { return get(key, kInt64, 1, 0).item<int64_t>(); }
  double get_f64(const std::string& key) const { return get(key, kFloat64, 1, 0).item<double>(); }
  std::vector<double> get_f64s(const std::string& key, int64_t n) const {
    return get(key, kFloat64, n, 1).to_vector<double>();
  }
  const io::SafetensorsFile& file() const { return f_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  io::SafetensorsFile f_;
};

// "12/exp_avg" -> (12, "exp_avg"); false when the number part is not a whole non-negative integer.
bool split_number(const std::string& s, int64_t& n, std::string& rest) {
  auto slash = s.find('/');
  if (slash == std::string::npos || slash == 0) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + slash, n);
  if (ec != std::errc() || p != s.data() + slash || n < 0) return false;
  rest = s.substr(slash + 1);
  return !rest.empty();
}

// ---- save -----------------------------------------------------------------------------------

void add_optimizer(nn::OrderedDict<Tensor>& out, const optim::Optimizer& opt) {
  optim::OptimizerStateDict d = opt.state_dict();
  for (const auto& [id, named] : d.state)
    for (const auto& [name, t] : named) out.insert("optimizer/state/" + std::to_string(id) + "/" + name, t);
  for (size_t g = 0; g < d.param_groups.size(); ++g) {
    const auto& group = d.param_groups[g];
    const std::string prefix = "optimizer/group/" + std::to_string(g) + "/";
    out.insert(prefix + "params",
               from_buffer(group.params.data(), Shape{int64_t(group.params.size())}, kInt64));
    for (const auto& [k, v] : group.options) out.insert(prefix + "option/" + k, f64(v));
  }
}

void add_scheduler(nn::OrderedDict<Tensor>& out, const std::string& prefix, const optim::SchedulerState& s,
                   bool plateau) {
  out.insert(prefix + "last_epoch", i64(s.last_epoch));
  out.insert(prefix + "last_lrs", f64s(s.last_lrs));
  if (!plateau) {
    out.insert(prefix + "base_lrs", f64s(s.base_lrs));
    return;
  }
  out.insert(prefix + "best", f64(s.best));
  out.insert(prefix + "num_bad_epochs", i64(s.num_bad_epochs));
  out.insert(prefix + "cooldown_counter", i64(s.cooldown_counter));
}

void add_rng(nn::OrderedDict<Tensor>& out, const Generator& g) {
  Generator::State st = g.state();
  int64_t words[4];
  std::memcpy(words, st.s, sizeof words);  // uint64 bits kept exactly in int64 storage
  out.insert("rng/s", from_buffer(words, Shape{4}, kInt64));
  out.insert("rng/seed", i64(static_cast<int64_t>(st.seed)));
  out.insert("rng/cached_normal", f64(st.cached_normal));
  out.insert("rng/has_cached_normal", i64(st.has_cached_normal ? 1 : 0));
}

// ---- load -----------------------------------------------------------------------------------

nn::OrderedDict<Tensor> model_dict(const Reader& r, const nn::Module& model) {
  nn::OrderedDict<Tensor> sd;
  for (const auto& [k, t] : r.file().tensors)
    if (k.rfind("model/", 0) == 0) sd.insert(k.substr(6), t);
  // Checked here, before anything is applied (load_state_dict would check too, but by then the
  // optimizer would already have been restored).
  nn::OrderedDict<Tensor> own = model.state_dict();
  std::vector<std::string> problems;
  for (const auto& [k, t] : own) {
    const Tensor* s = sd.find(k);
    if (!s) {
      problems.push_back("missing \"model/" + k + "\"");
    } else if (s->shape() != t.shape()) {
      std::ostringstream os;
      os << "\"model/" << k << "\" has shape " << s->shape() << " but the model's is " << t.shape();
      problems.push_back(os.str());
    }
  }
  for (const auto& [k, t] : sd)
    if (!own.contains(k)) problems.push_back("unexpected \"model/" + k + "\" (the model has no such tensor)");
  if (!problems.empty()) {
    std::string msg = "does not fit the model (" + model.name() + "):";
    for (const auto& p : problems) msg += "\n\t" + p;
    r.fail(msg);
  }
  return sd;
}

optim::OptimizerStateDict optimizer_dict(const Reader& r, const optim::Optimizer& opt) {
  const auto& meta = r.file().metadata;
  auto it = meta.find("nabla.optimizer");
  if (it == meta.end()) r.fail("has no optimizer state");
  if (it->second != opt.name()) r.fail("holds " + it->second + " state but the optimizer is " + opt.name());
  optim::OptimizerStateDict d;
  std::map<int64_t, optim::OptimizerStateDict::Group> groups;
  for (const auto& [k, t] : r.file().tensors) {
    int64_t n;
    std::string rest;
    if (k.rfind("optimizer/state/", 0) == 0) {
      if (!split_number(k.substr(16), n, rest) || rest.find('/') != std::string::npos)
        r.fail("malformed optimizer entry \"" + k + "\"");
      d.state[n][rest] = t;
    } else if (k.rfind("optimizer/group/", 0) == 0) {
      if (!split_number(k.substr(16), n, rest)) r.fail("malformed optimizer entry \"" + k + "\"");
      if (rest == "params") {
        groups[n].params = r.get(k, kInt64, -1, 1).to_vector<int64_t>();
      } else if (rest.rfind("option/", 0) == 0) {
        groups[n].options[rest.substr(7)] = r.get_f64(k);
      } else {
        r.fail("malformed optimizer entry \"" + k + "\"");
      }
    } else if (k.rfind("optimizer/", 0) == 0) {
      r.fail("malformed optimizer entry \"" + k + "\"");
    }
  }
  int64_t g = 0;
  for (auto& [n, group] : groups) {
    if (n != g++)
      r.fail("optimizer parameter group numbers are not 0, 1, ... (found " + std::to_string(n) + ")");
    if (!r.has("optimizer/group/" + std::to_string(n) + "/params"))
      r.fail("optimizer parameter group " + std::to_string(n) + " has no \"params\"");
    d.param_groups.push_back(std::move(group));
  }
  return d;
}

optim::SchedulerState scheduler_state(const Reader& r, const std::string& prefix, size_t groups,
                                      bool plateau) {
  if (!r.has(prefix + "last_epoch")) r.fail("has no " + prefix.substr(0, prefix.size() - 1) + " state");
  optim::SchedulerState s;
  s.last_epoch = r.get_i64(prefix + "last_epoch");
  s.last_lrs = r.get_f64s(prefix + "last_lrs", int64_t(groups));
  if (!plateau) {
    s.base_lrs = r.get_f64s(prefix + "base_lrs", int64_t(groups));
    return s;
  }
  s.best = r.get_f64(prefix + "best");
  s.num_bad_epochs = r.get_i64(prefix + "num_bad_epochs");
  s.cooldown_counter = r.get_i64(prefix + "cooldown_counter");
  return s;
}

Generator::State rng_state(const Reader& r) {
  Generator::State st{};
  std::vector<int64_t> words = r.get("rng/s", kInt64, 4, 1).to_vector<int64_t>();
  std::memcpy(st.s, words.data(), sizeof st.s);
  if (!(st.s[0] | st.s[1] | st.s[2] | st.s[3])) r.fail("\"rng/s\" is all zeros, not a generator state");
  st.seed = static_cast<uint64_t>(r.get_i64("rng/seed"));
  st.cached_normal = r.get_f64("rng/cached_normal");
  int64_t has = r.get_i64("rng/has_cached_normal");
  if (has != 0 && has != 1) r.fail("\"rng/has_cached_normal\" must be 0 or 1, got " + std::to_string(has));
  st.has_cached_normal = has == 1;
  return st;
}

void apply_checkpoint(const Reader& r, TrainingState& s);

}  // namespace

void save_checkpoint(const std::string& path, const TrainingState& s) {
  nn::OrderedDict<Tensor> out;
  Metadata meta{{kFormatKey, kFormatVersion}};
  if (s.model)
    for (const auto& [k, t] : s.model->state_dict()) out.insert("model/" + k, t);
  if (s.optimizer) {
    add_optimizer(out, *s.optimizer);
    meta["nabla.optimizer"] = s.optimizer->name();
  }
  if (s.scheduler) add_scheduler(out, "scheduler/", s.scheduler->state_dict(), false);
  if (s.plateau) add_scheduler(out, "plateau/", s.plateau->state_dict(), true);
  if (s.rng) add_rng(out, *s.rng);
  out.insert("progress/epoch", i64(s.epoch));
  out.insert("progress/step", i64(s.step));
  for (const auto& [k, v] : s.user) meta["user." + k] = v;
  save(out, path, meta);
}

void load_checkpoint(const std::string& path, TrainingState& s) {
  apply_checkpoint(Reader(path, io::load_safetensors(path)), s);
}

void load_checkpoint_bytes(const void* data, size_t size, TrainingState& s, const std::string& what) {
  apply_checkpoint(Reader(what, io::parse_safetensors(data, size, what)), s);
}

namespace {

void apply_checkpoint(const Reader& r, TrainingState& s) {
  auto fmt = r.file().metadata.find(kFormatKey);
  if (fmt == r.file().metadata.end())
    r.fail("is a safetensors file but not a nabla checkpoint (no \"nabla.checkpoint\" metadata)");
  if (fmt->second != kFormatVersion) r.fail("has checkpoint format version " + fmt->second + ", expected 1");

  // 1. Build and check every part; nothing is modified yet.
  nn::OrderedDict<Tensor> model;
  if (s.model) model = model_dict(r, *s.model);
  optim::OptimizerStateDict opt;
  if (s.optimizer) opt = optimizer_dict(r, *s.optimizer);
  optim::SchedulerState sched, plateau;
  if (s.scheduler) sched = scheduler_state(r, "scheduler/", s.scheduler->get_last_lr().size(), false);
  if (s.plateau) plateau = scheduler_state(r, "plateau/", s.plateau->get_last_lr().size(), true);
  Generator::State rng{};
  if (s.rng) rng = rng_state(r);
  int64_t epoch = r.get_i64("progress/epoch"), step = r.get_i64("progress/step");
  Metadata user;
  for (const auto& [k, v] : r.file().metadata)
    if (k.rfind("user.", 0) == 0) user[k.substr(5)] = v;

  // 2. Apply. The optimizer checks its state against its parameters as it loads (and changes
  // nothing if that fails); anything failing after it rolls it and the schedulers back.
  optim::OptimizerStateDict opt_before;
  optim::SchedulerState sched_before, plateau_before;
  if (s.optimizer) opt_before = s.optimizer->state_dict();
  if (s.scheduler) sched_before = s.scheduler->state_dict();
  if (s.plateau) plateau_before = s.plateau->state_dict();
  if (s.optimizer) {
    try {
      s.optimizer->load_state_dict(opt);
    } catch (const Error& e) {
      r.fail(std::string("does not fit the optimizer: ") + e.what());
    }
  }
  try {
    if (s.scheduler) s.scheduler->load_state_dict(sched);
    if (s.plateau) s.plateau->load_state_dict(plateau);
    if (s.model) s.model->load_state_dict(model);
  } catch (...) {
    if (s.optimizer) s.optimizer->load_state_dict(opt_before);
    if (s.scheduler) s.scheduler->load_state_dict(sched_before);
    if (s.plateau) s.plateau->load_state_dict(plateau_before);
    throw;
  }
  if (s.rng) s.rng->set_state(rng);
  s.epoch = epoch;
  s.step = step;
  s.user = std::move(user);
}

}  // namespace
}  // namespace nabla
