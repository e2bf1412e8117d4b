// F::pad's modes as one index_select per padded dim: the padded dim's source index for every
// output position (mirrored, clamped or wrapped), so the values and the gradients both come from
// an op that already has them.
#include "nabla/nn/functional/padding.h"

#include "nabla/creation.h"
#include "nabla/error.h"
#include "nabla/ops.h"

namespace nabla::F {
namespace {

enum class Mode { kReflect, kReplicate, kCircular };

int64_t source(Mode m, int64_t i, int64_t n) {  // i in [-lo, n + hi)
  switch (m) {
    case Mode::kReflect:
      if (i < 0) return -i;
      if (i >= n) return 2 * (n - 1) - i;
      return i;
    case Mode::kReplicate:
      return std::clamp<int64_t>(i, 0, n - 1);
    case Mode::kCircular:
      return ((i % n) + n) % n;
  }
  return i;
}

}  // namespace

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, double value) {
  if (mode == "constant") return nabla::pad(x, pads, value);
  Mode m;
  if (mode == "reflect") {
    m = Mode::kReflect;
  } else if (mode == "replicate") {
    m = Mode::kReplicate;
  } else if (mode == "circular") {
    m = Mode::kCircular;
  } else {
    ::nabla::detail::throw_error("pad: unknown mode '", mode,
                                 "' (expected 'constant', 'reflect', 'replicate' or 'circular')");
  }
  NABLA_CHECK(x.defined(), "pad: the input is undefined");
  NABLA_CHECK(pads.size() % 2 == 0 && static_cast<int64_t>(pads.size()) <= 2 * x.dim(), "pad: ", pads.size(),
              " padding values for a ", x.dim(), "-d input (", x.shape(),
              "); expected an even number, at most 2 per dim");
  NABLA_CHECK(value == 0.0, "pad: a fill value applies to mode 'constant' only, got value ", value,
              " with mode '", mode, "'");
  Tensor y = x;
  for (size_t k = 0; k < pads.size(); k += 2) {
    const int64_t dim = x.dim() - 1 - static_cast<int64_t>(k / 2);
    const int64_t lo = pads[k], hi = pads[k + 1], n = x.size(dim);
    NABLA_CHECK(lo >= 0 && hi >= 0, "pad: negative padding is not supported, got ", lo, ", ", hi, " for dim ",
                dim);
    if (lo == 0 && hi == 0) continue;
    NABLA_CHECK(n > 0, "pad: mode '", mode, "' cannot pad dim ", dim, " of size 0 (input ", x.shape(), ")");
    if (m == Mode::kReflect)
      NABLA_CHECK(lo < n && hi < n, "pad: mode 'reflect' needs padding < the dim's size, got padding (", lo,
                  ", ", hi, ") for dim ", dim, " of size ", n, " (input ", x.shape(), ")");
    if (m == Mode::kCircular)
      NABLA_CHECK(lo <= n && hi <= n, "pad: mode 'circular' needs padding <= the dim's size, got padding (",
                  lo, ", ", hi, ") for dim ", dim, " of size ", n, " (input ", x.shape(), ")");
    std::vector<int64_t> idx(lo + n + hi);
    for (int64_t i = 0; i < static_cast<int64_t>(idx.size()); ++i) idx[i] = source(m, i - lo, n);
    y = index_select(y, dim, from_buffer(idx.data(), {static_cast<int64_t>(idx.size())}, kInt64));
  }
  return y;
}

}  // namespace nabla::F
