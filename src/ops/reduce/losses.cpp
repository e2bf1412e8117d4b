// Classification losses as composites: nll_loss picks -log_probs[i, target[i]] with gather (its
// VJP is scatter_add), cross_entropy = log_softmax + nll_loss (class indices) or
// -sum(target * log_softmax) (class probabilities). Formulas, including how the mean is
// normalised with class weights and label smoothing, follow PyTorch 1.13 (LossNLL.cpp).
#include "graph/trace.h"
#include "ops/reduce/losses.h"

#include <cstring>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/ops.h"

namespace nabla {
namespace detail {
namespace {

/// Checks the class indices on the host (a bad index must be a clear error, not a wild read).
void check_targets(const Tensor& target, int64_t classes, int64_t ignore_index, const char* who) {
  if (target.numel() == 0) return;
  graph::AllowValueReads validation_only;  // under jit::trace this check runs at trace time only
  std::vector<int64_t> t = target.to_vector<int64_t>();
  for (int64_t v : t)
    NABLA_CHECK(v == ignore_index || (v >= 0 && v < classes), who, ": target ", v, " is out of bounds for ",
                classes, " classes (expected in [0, ", classes - 1, "] or ignore_index = ", ignore_index,
                ")");
}

/// The class-index target shape for an input: [] for [C], [N, d...] for [N, C, d...].
Shape index_target_shape(const Shape& in) {
  Shape expect;
  if (in.size() < 2) return expect;
  expect.push_back(in[0]);
  for (int d = 2; d < static_cast<int>(in.size()); ++d) expect.push_back(in[d]);
  return expect;
}

void check_weight(const Tensor& weight, int64_t classes, const char* who) {
  if (!weight.defined()) return;
  NABLA_CHECK(weight.dim() == 1 && weight.numel() == classes, who,
              ": weight must be a 1-d tensor with one entry per class (", classes, "), got shape ",
              weight.shape());
  NABLA_CHECK(is_floating(weight.dtype()), who, ": weight must be floating point, got ", weight.dtype());
}

/// Shape that broadcasts a [C] weight against the input along the class dim.
Shape class_broadcast_shape(const Tensor& input, int64_t classes) {
  Shape s;
  for (int d = 0; d < input.dim(); ++d) s.push_back(d == (input.dim() == 1 ? 0 : 1) ? classes : 1);
  return s;
}

/// weight[target] with ignored entries set to 0 (shape of target).
Tensor target_weights(const Tensor& weight, const Tensor& safe_target, const Tensor& valid) {
  Tensor w = index_select(weight, 0, safe_target.reshape({-1})).reshape(safe_target.shape());
  return where(valid, w, scalar_tensor(0.0));
}

}  // namespace

Reduction parse_reduction(const char* r, const char* who, bool allow_batchmean) {
  if (r != nullptr) {
    if (std::strcmp(r, "mean") == 0) return Reduction::kMean;
    if (std::strcmp(r, "sum") == 0) return Reduction::kSum;
    if (std::strcmp(r, "none") == 0) return Reduction::kNone;
    if (allow_batchmean && std::strcmp(r, "batchmean") == 0) return Reduction::kBatchMean;
  }
  detail::throw_error(who, ": reduction must be one of \"none\", \"mean\", \"sum\"",
                      allow_batchmean ? ", \"batchmean\"" : "", "; got \"", r ? r : "(null)", "\"");
}

Tensor reduce_loss(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::kNone:
      return loss;
    case Reduction::kSum:
      return sum(loss);
    case Reduction::kMean:
      return mean(loss);
    case Reduction::kBatchMean:
      return loss.dim() == 0 ? sum(loss) : sum(loss) / Scalar(double(loss.size(0)));
  }
  return loss;
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction red, int64_t ignore_index,
                const Tensor& weight, const char* who) {
  NABLA_CHECK(red != Reduction::kBatchMean, who, ": reduction \"batchmean\" is only valid for kl_div");
  NABLA_CHECK(log_probs.dim() >= 1, who, ": expected an input of shape [C], [N, C] or [N, C, d1, ...], got ",
              log_probs.shape());
  NABLA_CHECK(is_integral(target.dtype()), who, ": expected integer class indices as target, got ",
              target.dtype());
  // Bring every layout to [M, C] with a target of [M]: [C] -> [1, C], [N, C, d...] -> [N*d..., C].
  Tensor x = log_probs, t = target.to(kInt64);
  Shape out_shape = index_target_shape(log_probs.shape());
  if (log_probs.dim() == 1) {
    NABLA_CHECK(target.dim() == 0, who, ": for an input of shape ", log_probs.shape(),
                " the target must be a 0-dim class index, got shape ", target.shape());
    x = x.unsqueeze(0);
    t = t.reshape({1});
  } else {
    NABLA_CHECK(target.dim() == 0 || target.shape()[0] == log_probs.shape()[0], who, ": input ",
                log_probs.shape(), " and target ", target.shape(),
                " disagree on the batch size (expected a target of shape ", out_shape, ")");
    NABLA_CHECK(target.shape() == out_shape, who, ": expected a target of shape ", out_shape,
                " for an input of shape ", log_probs.shape(), ", got ", target.shape());
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
  check_weight(weight, classes, who);
  check_targets(t, classes, ignore_index, who);
  Tensor valid = t != scalar_tensor(ignore_index);
  Tensor safe = where(valid, t, scalar_tensor(0));
  Tensor picked = gather(x, 1, safe.unsqueeze(1)).squeeze(1);
  Tensor wt = weight.defined() ? target_weights(weight, safe, valid) : Tensor();
  // `where` (not a multiply by 0) so an ignored -inf log-probability cannot turn into NaN.
  Tensor loss = where(valid, wt.defined() ? -picked * wt : -picked, scalar_tensor(0.0));
  switch (red) {
    case Reduction::kNone:
      return loss.reshape(out_shape);
    case Reduction::kSum:
      return sum(loss);
    default:
      break;
  }
  // Averaged over the weight of the targets that count; all ignored gives 0/0 = NaN, as in PyTorch.
  return sum(loss) / (wt.defined() ? sum(wt) : sum(valid).to(loss.dtype()));
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction red, int64_t ignore_index,
                     const Tensor& weight, double label_smoothing, const char* who) {
  NABLA_CHECK(logits.dim() >= 1, who, ": expected an input of shape [C], [N, C] or [N, C, d1, ...], got ",
              logits.shape());
  NABLA_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, who,
              ": label_smoothing must be between 0.0 and 1.0, got ", label_smoothing);
  NABLA_CHECK(red != Reduction::kBatchMean, who, ": reduction \"batchmean\" is only valid for kl_div");
  const int64_t cdim = logits.dim() == 1 ? 0 : 1;
  const int64_t classes = logits.shape()[cdim];
  if (is_floating(target.dtype())) {
    // Class probabilities: the target has the input's shape.
    if (logits.dim() >= 2 && target.dim() >= 1 && target.shape()[0] != logits.shape()[0])
      detail::throw_error(who, ": input ", logits.shape(), " and target ", target.shape(),
                          " disagree on the batch size");
    NABLA_CHECK(target.shape() == logits.shape(), who, ": expected integer class indices as target (shape ",
                index_target_shape(logits.shape()), ") or class probabilities of the input's shape ",
                logits.shape(), ", got a ", target.dtype(), " target of shape ", target.shape());
    NABLA_CHECK(ignore_index < 0, who, ": ignore_index is not supported with class-probability targets");
    check_weight(weight, classes, who);
    Tensor logp = log_softmax(logits, cdim);
    Tensor tgt = label_smoothing > 0
                     ? target * Scalar(1.0 - label_smoothing) + Scalar(label_smoothing / classes)
                     : target;
    Tensor prod = logp * tgt;
    if (weight.defined()) prod = prod * weight.view(class_broadcast_shape(logits, classes));
    switch (red) {
      case Reduction::kNone:
        return -sum(prod, {cdim});
      case Reduction::kSum:
        return -sum(prod);
      default:
        break;
    }
    // Mean over the batch (and spatial) positions, not over classes; 0 positions give NaN.
    return -sum(prod) / Scalar(static_cast<double>(classes ? logits.numel() / classes : 0));
  }
  Tensor logp = log_softmax(logits, cdim);
  Tensor nll = nll_loss(logp, target, red, ignore_index, weight, who);
  if (label_smoothing == 0.0) return nll;
  // Smoothing term: -sum_c w_c log p_c per position, zero where ignored, normalised like nll.
  Tensor wlogp = weight.defined() ? logp * weight.view(class_broadcast_shape(logits, classes)) : logp;
  Tensor t = target.to(kInt64);
  Tensor valid = t != scalar_tensor(ignore_index);
  Tensor smooth = where(valid, -sum(wlogp, {cdim}), scalar_tensor(0.0));
  Tensor ret;
  switch (red) {
    case Reduction::kNone:
      ret = smooth;
      break;
    case Reduction::kSum:
      ret = sum(smooth);
      break;
    default: {
      Tensor denom = weight.defined() ? sum(target_weights(weight, where(valid, t, scalar_tensor(0)), valid))
                                      : sum(valid).to(smooth.dtype());
      ret = sum(smooth) / denom;
    }
  }
  return nll * Scalar(1.0 - label_smoothing) + ret * Scalar(label_smoothing / classes);
}

}  // namespace detail

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const char* reduction, int64_t ignore_index,
                const Tensor& weight) {
  return detail::nll_loss(log_probs, target, detail::parse_reduction(reduction, "nll_loss"), ignore_index,
                          weight, "nll_loss");
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const char* reduction, int64_t ignore_index,
                     const Tensor& weight, double label_smoothing) {
  return detail::cross_entropy(logits, target, detail::parse_reduction(reduction, "cross_entropy"),
                               ignore_index, weight, label_smoothing, "cross_entropy");
}

}  // namespace nabla
