// Classification losses as composites: nll_loss picks -log_probs[i, target[i]] with gather (its
// VJP is scatter_add), cross_entropy = log_softmax + nll_loss.
#include <cstring>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla {
namespace {

enum class Reduction { kNone, kMean, kSum };

Reduction parse_reduction(const char* r, const char* op) {
  if (std::strcmp(r, "mean") == 0) return Reduction::kMean;
  if (std::strcmp(r, "sum") == 0) return Reduction::kSum;
  NABLA_CHECK(std::strcmp(r, "none") == 0, op, ": reduction must be \"mean\", \"sum\" or \"none\", got \"", r,
              "\"");
  return Reduction::kNone;
}

/// Checks the class indices on the host (a bad index must be a clear error, not a wild read).
void check_targets(const Tensor& target, int64_t classes, int64_t ignore_index, const char* op) {
  if (target.numel() == 0) return;
  std::vector<int64_t> t = target.to_vector<int64_t>();
  for (int64_t v : t)
    NABLA_CHECK(v == ignore_index || (v >= 0 && v < classes), op, ": target ", v, " is out of bounds for ", classes,
                " classes (expected in [0, ", classes - 1, "] or ignore_index = ", ignore_index, ")");
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const char* reduction, int64_t ignore_index) {
  const char* op = "nll_loss";
  Reduction red = parse_reduction(reduction, op);
  NABLA_CHECK(is_integral(target.dtype()), op, ": expected integer class indices as target, got ", target.dtype());
  NABLA_CHECK(log_probs.dim() >= 1, op, ": expected an input of shape [C], [N, C] or [N, C, d1, ...], got ",
              log_probs.shape());
  // Bring every layout to [M, C] with a target of [M]: [C] -> [1, C], [N, C, d...] -> [N*d..., C].
  Tensor x = log_probs, t = target.to(kInt64);
  Shape out_shape;
  if (log_probs.dim() == 1) {
    NABLA_CHECK(target.dim() == 0, op, ": for an input of shape ", log_probs.shape(),
                " the target must be a 0-dim class index, got shape ", target.shape());
    x = x.unsqueeze(0);
    t = t.reshape({1});
  } else {
    Shape expect;
    expect.push_back(log_probs.shape()[0]);
    for (int d = 2; d < log_probs.dim(); ++d) expect.push_back(log_probs.shape()[d]);
    NABLA_CHECK(target.shape() == expect, op, ": expected a target of shape ", expect, " for an input of shape ",
                log_probs.shape(), ", got ", target.shape());
    out_shape = expect;
    if (log_probs.dim() > 2) {
      Shape perm;
      perm.push_back(0);
      for (int d = 2; d < log_probs.dim(); ++d) perm.push_back(d);
      perm.push_back(1);
      x = x.permute(perm).reshape({-1, log_probs.shape()[1]});
      t = t.reshape({-1});
    }
  }
  int64_t classes = x.shape()[1];
  check_targets(t, classes, ignore_index, op);
  Tensor valid = t != scalar_tensor(ignore_index);
  Tensor safe = where(valid, t, scalar_tensor(0));
  Tensor picked = gather(x, 1, safe.unsqueeze(1)).squeeze(1);
  Tensor loss = where(valid, -picked, scalar_tensor(0));
  switch (red) {
    case Reduction::kNone: return loss.reshape(out_shape);
    case Reduction::kSum: return sum(loss);
    case Reduction::kMean: break;
  }
  // Averaged over the targets that count; all ignored gives 0/0 = NaN, as in PyTorch.
  return sum(loss) / sum(valid).to(loss.dtype());
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const char* reduction, int64_t ignore_index) {
  NABLA_CHECK(logits.dim() >= 1, "cross_entropy: expected logits of shape [C], [N, C] or [N, C, d1, ...], got ",
              logits.shape());
  return nll_loss(log_softmax(logits, logits.dim() == 1 ? 0 : 1), target, reduction, ignore_index);
}

}  // namespace nabla
