// Pooling with PyTorch's extra options, on top of the plain max_pool2d / avg_pool2d ops:
// - ceil_mode: the input is padded on the bottom/right (-inf for max, zeros for avg) so that the
//   floor-mode op yields the ceil-mode windows;
// - dilation (max): the max of kh * kw strided slices of the padded input;
// - count_include_pad=false / divisor_override (avg): the window sums (the plain op's mean over a
//   fully padded input, times kh * kw) divided by PyTorch's per-window divisor.
// Gradients come from autograd through pad, slice, maximum and mul. (Ties in a dilated max window
// share the gradient as torch.maximum does; PyTorch's max_pool2d gives it to the first maximum.)
#include "ops/conv/pool_general.h"

#include <limits>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/creation.h"
#include "nabla/error.h"

namespace nabla::detail {
namespace {

// One spatial dim of a pooling: input size, kernel, stride, padding, dilation, PyTorch's output
// size, and the extra bottom/right padding that the windows need beyond in + 2 * pad.
struct PoolDim {
  int64_t in, k, s, p, d, out, extra;
};

PoolDim pool_dim(const char* op, const Shape& shape, int axis, const Pool2dOptions& o) {
  const int i = axis - 2;
  PoolDim g{shape[axis],
            o.kernel[i],
            o.stride[i] == 0 ? o.kernel[i] : o.stride[i],
            o.padding[i],
            o.dilation[i],
            0,
            0};
  NABLA_CHECK(g.k > 0 && g.s > 0 && g.d > 0, op,
              ": kernel, stride and dilation must be positive, got kernel [", o.kernel[0], ", ", o.kernel[1],
              "], stride [", o.stride[0], ", ", o.stride[1], "], dilation [", o.dilation[0], ", ",
              o.dilation[1], "]");
  NABLA_CHECK(g.p >= 0 && 2 * g.p <= g.k, op, ": padding [", o.padding[0], ", ", o.padding[1],
              "] must be non-negative and at most half of the kernel size [", o.kernel[0], ", ", o.kernel[1],
              "]");
  const int64_t span = g.d * (g.k - 1) + 1;
  const int64_t num = g.in + 2 * g.p - span + (o.ceil_mode ? g.s - 1 : 0);
  g.out = (num >= 0 ? num / g.s : -((-num + g.s - 1) / g.s)) + 1;  // floor division
  // PyTorch: in ceil mode the last window must start inside the input or its left padding.
  if (o.ceil_mode && g.out > 0 && (g.out - 1) * g.s >= g.in + g.p) --g.out;
  NABLA_CHECK(g.out > 0, op, ": input ", shape, " is too small for kernel [", o.kernel[0], ", ", o.kernel[1],
              "] with stride [", g.s, "], padding [", o.padding[0], ", ", o.padding[1], "] and dilation [",
              o.dilation[0], ", ", o.dilation[1], "] (output size along dim ", axis, " would be ", g.out,
              ")");
  g.extra = std::max<int64_t>(0, (g.out - 1) * g.s + span - (g.in + 2 * g.p));
  return g;
}

// x as [N, C, H, W] (a [C, H, W] input gets a batch dim) and the function of it, squeezed back.
template <typename F>
Tensor batched4(const char* op, const Tensor& x, const F& f) {
  NABLA_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), op,
              ": expected a 4-d input [N, C, H, W] (or 3-d [C, H, W]), got shape ",
              x.defined() ? x.shape() : Shape{});
  NABLA_CHECK(is_floating(x.dtype()), op, ": expected a floating-point input, got ", x.dtype());
  if (x.dim() == 4) return f(x);
  return f(x.unsqueeze(0)).squeeze(0);
}

Pool2dOptions plain(const Pool2dOptions& o, int64_t ph, int64_t pw) {
  Pool2dOptions q;
  for (int i = 0; i < 2; ++i) {
    q.kernel[i] = o.kernel[i];
    q.stride[i] = o.stride[i] == 0 ? o.kernel[i] : o.stride[i];
  }
  q.padding[0] = ph;
  q.padding[1] = pw;
  return q;
}

}  // namespace

bool pool_needs_general(const Pool2dOptions& o, bool is_max) {
  // Options of the other kind of pool also come here, to be reported.
  (void)is_max;
  return o.ceil_mode || o.dilation[0] != 1 || o.dilation[1] != 1 || !o.count_include_pad ||
         o.divisor_override != 0;
}

Tensor max_pool2d_general(const Tensor& x, const Pool2dOptions& o) {
  const char* op = "max_pool2d";
  NABLA_CHECK(o.count_include_pad && o.divisor_override == 0, op,
              ": count_include_pad and divisor_override are avg_pool2d options, got count_include_pad=",
              o.count_include_pad ? "true" : "false", ", divisor_override=", o.divisor_override);
  return batched4(op, x, [&](const Tensor& x4) {
    PoolDim h = pool_dim(op, x4.shape(), 2, o), w = pool_dim(op, x4.shape(), 3, o);
    const double lowest = -std::numeric_limits<double>::infinity();
    if (h.d == 1 && w.d == 1) {
      // ceil_mode only: -inf rows/columns past the end never win a window; the plain op (and its
      // fast paths) does the rest.
      Tensor xp = h.extra || w.extra ? pad(x4, {0, w.extra, 0, h.extra}, lowest) : x4;
      return max_pool2d(xp, plain(o, h.p, w.p)).narrow(2, 0, h.out).narrow(3, 0, w.out);
    }
    Tensor xp = pad(x4, {w.p, w.p + w.extra, h.p, h.p + h.extra}, lowest);
    Tensor best;
    for (int64_t i = 0; i < h.k; ++i)
      for (int64_t j = 0; j < w.k; ++j) {
        Tensor v = xp.slice(2, i * h.d, i * h.d + (h.out - 1) * h.s + 1, h.s)
                       .slice(3, j * w.d, j * w.d + (w.out - 1) * w.s + 1, w.s);
        best = best.defined() ? maximum(best, v) : v.contiguous();
      }
    return best;
  });
}

Tensor max_pool2d_general_indices(const Tensor& x, const Pool2dOptions& o) {
  const char* op = "max_pool2d";
  NoGradGuard no_grad;
  return batched4(op, x, [&](const Tensor& x4) {
    PoolDim h = pool_dim(op, x4.shape(), 2, o), w = pool_dim(op, x4.shape(), 3, o);
    const double lowest = -std::numeric_limits<double>::infinity();
    // Padding (and ceil_mode's extra rows) is -inf: never strictly greater than the running best.
    Tensor xp = pad(x4.detach(), {w.p, w.p + w.extra, h.p, h.p + h.extra}, lowest);
    const Shape out{x4.size(0), x4.size(1), h.out, w.out};
    // PyTorch starts each window's argmax at its first position inside the input (so a window of
    // -inf values points there) and scans row by row with `val > best || isnan(val)`.
    std::vector<int64_t> first(static_cast<size_t>(h.out * w.out)), cand(first.size());
    for (int64_t oh = 0; oh < h.out; ++oh)
      for (int64_t ow = 0; ow < w.out; ++ow) {
        int64_t r = oh * h.s - h.p, c = ow * w.s - w.p;
        while (r < 0) r += h.d;
        while (c < 0) c += w.d;
        first[oh * w.out + ow] = r * w.in + c;
      }
    Tensor idx = tensor(first, Shape{1, 1, h.out, w.out}).expand(out).contiguous();
    Tensor best = full(out, lowest, x4.dtype());
    for (int64_t i = 0; i < h.k; ++i)
      for (int64_t j = 0; j < w.k; ++j) {
        for (int64_t oh = 0; oh < h.out; ++oh)
          for (int64_t ow = 0; ow < w.out; ++ow) {
            const int64_t r = oh * h.s + i * h.d - h.p, c = ow * w.s + j * w.d - w.p;
            cand[oh * w.out + ow] = r >= 0 && r < h.in && c >= 0 && c < w.in ? r * w.in + c : -1;
          }
        Tensor v = xp.slice(2, i * h.d, i * h.d + (h.out - 1) * h.s + 1, h.s)
                       .slice(3, j * w.d, j * w.d + (w.out - 1) * w.s + 1, w.s);
        // Once the best is NaN only another NaN replaces it; otherwise v > best or v is NaN.
        Tensor take = where(ne(best, best), ne(v, v), logical_not(le(v, best)));
        best = where(take, v, best);
        idx = where(take, tensor(cand, Shape{1, 1, h.out, w.out}), idx);
      }
    return idx;
  });
}

Tensor avg_pool2d_general(const Tensor& x, const Pool2dOptions& o) {
  const char* op = "avg_pool2d";
  NABLA_CHECK(o.dilation[0] == 1 && o.dilation[1] == 1, op, ": dilation is a max_pool2d option (got [",
              o.dilation[0], ", ", o.dilation[1], "]; PyTorch's AvgPool2d has none)");
  return batched4(op, x, [&](const Tensor& x4) {
    PoolDim h = pool_dim(op, x4.shape(), 2, o), w = pool_dim(op, x4.shape(), 3, o);
    // Every window of the padded input lies inside it, so the plain op's mean is sum / (kh * kw).
    Tensor xp = pad(x4, {w.p, w.p + w.extra, h.p, h.p + h.extra}, 0.0);
    Tensor mean = avg_pool2d(xp, plain(o, 0, 0)).narrow(2, 0, h.out).narrow(3, 0, w.out);
    // PyTorch's divisor per window: the window clipped to the padded input (count_include_pad), or
    // to the input itself, or divisor_override.
    std::vector<double> factor(h.out * w.out);
    for (int64_t oh = 0; oh < h.out; ++oh)
      for (int64_t ow = 0; ow < w.out; ++ow) {
        int64_t h0 = oh * h.s - h.p, w0 = ow * w.s - w.p;
        int64_t h1 = std::min(h0 + h.k, h.in + h.p), w1 = std::min(w0 + w.k, w.in + w.p);
        int64_t divisor = (h1 - h0) * (w1 - w0);
        if (!o.count_include_pad)
          divisor = (std::min(h1, h.in) - std::max<int64_t>(h0, 0)) *
                    (std::min(w1, w.in) - std::max<int64_t>(w0, 0));
        if (o.divisor_override != 0) divisor = o.divisor_override;
        factor[oh * w.out + ow] = static_cast<double>(h.k * w.k) / static_cast<double>(divisor);
      }
    Tensor f = from_buffer(factor.data(), {h.out, w.out}, kFloat64).to(x4.dtype());
    return mean * f;
  });
}

}  // namespace nabla::detail
