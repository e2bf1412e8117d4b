// CPU kernels of max/min with indices and argmax/argmin along one dim. Outputs are contiguous;
// inputs may have any strides.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ops/cpu_loops.h"
#include "ops/reduce/reduce.h"

namespace nabla::ops::reduce_cpu {
namespace {

using cpu::compute_t;

template <typename C>
inline bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>)
    return std::isnan(v);
  else
    return false;
}

/// Takes v over the current extremum r: a NaN is taken once and then kept. Written so GCC
/// vectorises it (no early exits).
template <bool kMax, typename C>
inline bool takes(C v, C r) {
  bool t = kMax ? v > r : v < r;
  if constexpr (std::is_floating_point_v<C>) t = t || (v != v && r == r);
  return t;
}

/// One output along a strided dim: the first extremum (sequential scan).
template <bool kMax, typename T, typename C = compute_t<T>>
inline void scan_strided(const T* p, int64_t n, int64_t s, C& best, int64_t& bi) {
  best = static_cast<C>(p[0]);
  bi = 0;
  for (int64_t j = 1; j < n && !is_nan(best); ++j) {
    C v = static_cast<C>(p[j * s]);
    if (takes<kMax>(v, best)) {
      best = v;
      bi = j;
    }
  }
}

/// One contiguous output row: the extremum by vector lanes, then the first position holding it.
template <bool kMax, typename T, typename C = compute_t<T>>
inline void scan_contiguous(const T* p, int64_t n, C& best, int64_t& bi) {
  if constexpr (std::is_same_v<T, float>) {
    best = extreme_f32<kMax>(p, n);
  } else {
    constexpr int L = 16;
    C lane[L];
    for (int j = 0; j < L; ++j) lane[j] = static_cast<C>(p[0]);
    int64_t i = 0;
    for (; i + L <= n; i += L)
      for (int j = 0; j < L; ++j) {
        C v = static_cast<C>(p[i + j]);
        lane[j] = takes<kMax>(v, lane[j]) ? v : lane[j];
      }
    for (int j = 0; i < n; ++i, ++j) {
      C v = static_cast<C>(p[i]);
      lane[j] = takes<kMax>(v, lane[j]) ? v : lane[j];
    }
    best = lane[0];
    for (int j = 1; j < L; ++j) best = takes<kMax>(lane[j], best) ? lane[j] : best;
  }
  bool nan = is_nan(best);
  for (bi = 0; bi < n; ++bi) {
    C v = static_cast<C>(p[bi]);
    if (nan ? is_nan(v) : v == best) break;
  }
}

/// w (<= kTile) neighbouring outputs whose inputs are contiguous (e.g. max over dim 0 of [N, C]).
constexpr int kTile = 64;
template <bool kMax, typename T, typename C = compute_t<T>>
inline void scan_tile(const T* p, int64_t n, int64_t s, int w, C* best, int64_t* bi) {
  for (int t = 0; t < w; ++t) {
    best[t] = static_cast<C>(p[t]);
    bi[t] = 0;
  }
  for (int64_t j = 1; j < n; ++j) {
    const T* r = p + j * s;
    for (int t = 0; t < w; ++t) {
      C v = static_cast<C>(r[t]);
      bool take = takes<kMax>(v, best[t]);
      best[t] = take ? v : best[t];
      bi[t] = take ? j : bi[t];
    }
  }
}

/// Index of the first maximum (kMax) or minimum along dim d; a NaN counts as the extremum, like
/// PyTorch. values may be null (argmax/argmin).
template <bool kMax, typename T>
void arg_extreme(const Tensor& x, int d, T* values, int64_t* indices) {
  using C = compute_t<T>;
  Shape ks, kst;
  for (int i = 0; i < x.dim(); ++i)
    if (i != d) {
      ks.push_back(x.shape()[i]);
      kst.push_back(x.strides()[i]);
    }
  const Shape* sp[1] = {&kst};
  auto kept = cpu::make_loop<1>(ks, sp);
  int64_t n = x.shape()[d], s = x.strides()[d], nout = ks.numel();
  if (nout == 0) return;
  const T* xp = static_cast<const T*>(x.raw_data());
  cpu::parallel_for(0, nout, std::max<int64_t>(1, cpu::kGrainSize / n), [&](int64_t b, int64_t e) {
    int64_t o = b;
    cpu::for_each_row(kept, b, e, [&](const int64_t* off, const int64_t* st, int64_t len) {
      if (st[0] == 1 && s != 1 && len > 1) {
        C best[kTile];
        for (int64_t t0 = 0; t0 < len; t0 += kTile) {
          int w = static_cast<int>(std::min<int64_t>(kTile, len - t0));
          scan_tile<kMax>(xp + off[0] + t0, n, s, w, best, indices + o + t0);
          if (values)
            for (int t = 0; t < w; ++t) values[o + t0 + t] = T(best[t]);
        }
        o += len;
        return;
      }
      for (int64_t i = 0; i < len; ++i, ++o) {
        const T* p = xp + off[0] + i * st[0];
        C best;
        if (s == 1)
          scan_contiguous<kMax>(p, n, best, indices[o]);
        else
          scan_strided<kMax>(p, n, s, best, indices[o]);
        if (values) values[o] = T(best);
      }
    });
  });
}

template <bool kMax>
void run_arg(const Tensor* in, Tensor* out, const Attrs& a, bool with_values) {
  visit_dtype(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* v = with_values ? static_cast<T*>(out[0].raw_data()) : nullptr;
    int64_t* idx = static_cast<int64_t*>(out[with_values ? 1 : 0].raw_data());
    arg_extreme<kMax, T>(in[0], static_cast<int>(a.i[1]), v, idx);
  });
}

}  // namespace

void max_dim(const Tensor* in, int, Tensor* out, const Attrs& a) { run_arg<true>(in, out, a, true); }
void min_dim(const Tensor* in, int, Tensor* out, const Attrs& a) { run_arg<false>(in, out, a, true); }
void argmax(const Tensor* in, int, Tensor* out, const Attrs& a) { run_arg<true>(in, out, a, false); }
void argmin(const Tensor* in, int, Tensor* out, const Attrs& a) { run_arg<false>(in, out, a, false); }

}  // namespace nabla::ops::reduce_cpu
