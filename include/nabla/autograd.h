// Reverse-mode autograd (define-by-run): ops record nodes as they run; backward walks them.
//   {
//     nabla::NoGradGuard no_grad;       // e.g. inside an optimizer step
//     w.sub_(w.grad() * lr);
//   }
//   auto [dx] = nabla::autograd::grad({y}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true);
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

/// Whether ops record autograd history (thread-local, on by default).
struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

/// Turns recording off for its scope (torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

/// Turns recording on for its scope (torch.enable_grad()).
class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(true); }
  ~EnableGradGuard() { GradMode::set_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

namespace autograd {

/// A step of the recorded graph: turns gradients of its outputs into gradients of its inputs.
struct Node;

/// The node's op name ("mul", "matmul", ...), e.g. for printing grad_fn.
std::string node_name(const Node& node);

/// Accumulates d(sum_i outputs[i] * grad_outputs[i]) / d(leaf) into every reachable leaf's .grad.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

/// Returns d(sum_i outputs[i] * grad_outputs[i]) / d(inputs[j]) without touching any .grad.
/// create_graph records the gradient computation itself, so the results can be differentiated
/// again (second derivatives). allow_unused: inputs not reached get an undefined tensor instead
/// of an error.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};
/// Compares the analytical Jacobian of fn (via backward) with central finite differences at
/// `inputs` (float64 tensors that require grad). Throws nabla::Error describing the first
/// mismatch; returns true otherwise.
bool gradcheck(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
               const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {});

}  // namespace autograd
}  // namespace nabla
