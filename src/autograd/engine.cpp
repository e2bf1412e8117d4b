// The backward engine: counts dependencies from the roots, then runs nodes in reverse creation
// order once all gradients for them have arrived (Kahn's algorithm on the recorded graph).
#include <queue>
#include <unordered_map>

#include "autograd/node.h"
#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla::autograd {
namespace {

struct Capture {  // an input of grad(): a leaf, or (node, output_nr) for a non-leaf
  detail::TensorImpl* leaf = nullptr;
  Node* fn = nullptr;
  uint32_t output_nr = 0;
};

struct GraphTask {
  bool retain_graph = false;
  bool create_graph = false;
  bool accumulate = true;  // backward(): into .grad; grad(): into `captured` only
  std::vector<Capture> captures;
  std::vector<Tensor> captured;
  std::unordered_map<Node*, int> deps;
  std::unordered_map<Node*, std::vector<Tensor>> buffers;
};

void add_into(Tensor& slot, const Tensor& g) { slot = slot.defined() ? slot + g : g; }

Tensor run_hooks(const std::vector<detail::GradHook>& hooks, Tensor g) {
  for (const auto& h : hooks) {
    Tensor r = h(g);
    if (r.defined()) g = r;
  }
  return g;
}

void accumulate_leaf(GraphTask& task, const std::shared_ptr<detail::TensorImpl>& leaf, Tensor g) {
  if (!leaf->hooks.empty()) g = run_hooks(leaf->hooks, g);
  for (size_t k = 0; k < task.captures.size(); ++k)
    if (task.captures[k].leaf == leaf.get()) add_into(task.captured[k], g);
  if (!task.accumulate) return;
  if (!task.create_graph) g = g.detach();
  if (!leaf->grad) {
    // Own the gradient: it may be shared with other edges (add passes one tensor to both inputs).
    bool owned = g.impl()->storage.use_count() == 1 && g.is_contiguous();
    leaf->grad = (owned ? g : g.clone()).impl();
  } else if (task.create_graph) {
    leaf->grad = (Tensor(leaf->grad) + g).impl();
  } else {
    NoGradGuard no_grad;
    Tensor(leaf->grad).add_(g);
  }
}

void send(GraphTask& task, const Edge& e, Tensor g, std::vector<Node*>& ready) {
  if (e.fn) {
    if (g.defined()) {
      auto& buf = task.buffers[e.fn.get()];
      if (buf.empty()) buf.resize(e.fn->output_meta.size());
      add_into(buf[e.output_nr], g);
    }
    if (--task.deps[e.fn.get()] == 0) ready.push_back(e.fn.get());
  } else if (e.leaf && g.defined()) {
    accumulate_leaf(task, e.leaf, std::move(g));
  }
}

void execute(GraphTask& task, const std::vector<Edge>& roots, const std::vector<Tensor>& root_grads) {
  // Dependency counts over the nodes reachable from the roots.
  std::vector<Node*> stack;
  for (const auto& e : roots)
    if (e.fn && task.deps.emplace(e.fn.get(), 0).second) stack.push_back(e.fn.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& e : n->next) {
      if (!e.fn) continue;
      auto [it, fresh] = task.deps.emplace(e.fn.get(), 0);
      ++it->second;
      if (fresh) stack.push_back(e.fn.get());
    }
  }
  auto later_first = [](Node* a, Node* b) { return a->sequence_nr < b->sequence_nr; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later_first)> queue(later_first);
  std::vector<Node*> ready;
  for (size_t r = 0; r < roots.size(); ++r) {
    const Edge& e = roots[r];
    if (e.fn) {
      auto& buf = task.buffers[e.fn.get()];
      if (buf.empty()) buf.resize(e.fn->output_meta.size());
      add_into(buf[e.output_nr], root_grads[r]);
    } else if (e.leaf) {
      accumulate_leaf(task, e.leaf, root_grads[r]);
    }
  }
  for (auto& [node, d] : task.deps)
    if (d == 0) queue.push(node);

  GradMode::set_enabled(task.create_graph);
  while (!queue.empty()) {
    Node* node = queue.top();
    queue.pop();
    std::vector<Tensor> grads = std::move(task.buffers[node]);
    task.buffers.erase(node);
    if (grads.empty()) grads.resize(node->output_meta.size());
    for (auto& [nr, hook] : node->pre_hooks) {
      if (!grads[nr].defined()) continue;
      Tensor r = hook(grads[nr]);
      if (r.defined()) grads[nr] = r;
    }
    for (size_t k = 0; k < task.captures.size(); ++k)
      if (task.captures[k].fn == node && grads[task.captures[k].output_nr].defined())
        add_into(task.captured[k], grads[task.captures[k].output_nr]);
    std::vector<Tensor> in_grads = node->apply(std::move(grads));
    if (!task.retain_graph) node->release();
    for (size_t i = 0; i < node->next.size(); ++i) send(task, node->next[i], std::move(in_grads[i]), ready);
    for (Node* r : ready) queue.push(r);
    ready.clear();
  }
}

// Roots and their initial gradients (ones for scalars), with the checks PyTorch makes.
void prepare_roots(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                   std::vector<Edge>& roots, std::vector<Tensor>& grads) {
  NABLA_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "backward: got ", outputs.size(),
              " outputs but ", grad_outputs.size(), " gradients");
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    NABLA_CHECK(out.defined() && out.requires_grad(), "backward: element ", i,
                " of the outputs does not require grad and has no grad_fn (did you forget "
                "set_requires_grad(true), or run under NoGradGuard?)");
    Tensor g = i < grad_outputs.size() ? grad_outputs[i] : Tensor();
    if (!g.defined()) {
      NABLA_CHECK(out.numel() == 1,
                  "backward: a gradient can be created implicitly only for scalar "
                  "outputs, but output ",
                  i, " has shape ", out.shape(), "; pass a gradient of that shape");
      g = ones_like(out);
    }
    NABLA_CHECK(g.shape() == out.shape(), "backward: gradient ", i, " has shape ", g.shape(),
                " but the output has shape ", out.shape());
    roots.push_back(gradient_edge(out));
    grads.push_back(g);
  }
}

struct GradModeRestore {
  bool prev = GradMode::is_enabled();
  ~GradModeRestore() { GradMode::set_enabled(prev); }
};

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs, bool retain_graph,
              bool create_graph) {
  GradModeRestore restore;
  GraphTask task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  std::vector<Edge> roots;
  std::vector<Tensor> grads;
  prepare_roots(outputs, grad_outputs, roots, grads);
  execute(task, roots, grads);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph, bool create_graph,
                         bool allow_unused) {
  GradModeRestore restore;
  GraphTask task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  task.accumulate = false;
  for (size_t j = 0; j < inputs.size(); ++j) {
    const Tensor& x = inputs[j];
    NABLA_CHECK(x.defined() && x.requires_grad(), "grad: input ", j, " does not require grad");
    Capture c;
    if (x.impl()->grad_fn) {
      c.fn = x.impl()->grad_fn.get();
      c.output_nr = x.impl()->output_nr;
    } else {
      c.leaf = x.impl().get();
    }
    task.captures.push_back(c);
  }
  task.captured.resize(inputs.size());
  std::vector<Edge> roots;
  std::vector<Tensor> grads;
  prepare_roots(outputs, grad_outputs, roots, grads);
  execute(task, roots, grads);
  for (size_t j = 0; j < inputs.size(); ++j)
    NABLA_CHECK(allow_unused || task.captured[j].defined(), "grad: input ", j,
                " was not used to compute the outputs (pass allow_unused=true to get an undefined "
                "gradient instead)");
  return task.captured;
}

}  // namespace nabla::autograd

namespace nabla {
// Defined here, not in tensor.cpp, so that the inference-only library (which has no engine) has
// no reference to the engine: calling backward() there is a link error, not a runtime surprise.
void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph, create_graph);
}
}  // namespace nabla
