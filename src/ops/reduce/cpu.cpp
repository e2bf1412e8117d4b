// CPU kernels for reductions over a set of dims: sum, prod, amax, amin.
//
// The input is seen as kept dims (the output's, row-major) x reduced dims. Each output element
// reduces its m inputs (in the reduced dims' row-major order) in fixed blocks; block results are
// combined by a binary cascade whose shape depends only on m. So results never depend on the
// thread count, nor on whether threads split the outputs or the blocks of one output.
//   path A (default): one output at a time; a block of kBlock elements is summed pairwise, read in
//                     place when the reduced elements are contiguous, else gathered first.
//   path B (tiled):   the innermost kept dim is contiguous (e.g. sum over the batch dim of [N, C]):
//                     kTile neighbouring outputs are reduced together, kRowBlock rows per block,
//                     so the loads are contiguous and vectorise.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ops/cpu_loops.h"
#include "ops/reduce/reduce.h"

namespace nabla::ops::reduce_cpu {
namespace {

using cpu::compute_t;

constexpr int64_t kBlock = 4096;   // reduced elements per partial result (path A)
constexpr int64_t kRowBlock = 32;  // reduced elements per partial result (path B, summed in sequence)
constexpr int kTile = 64;          // outputs reduced together (path B)
constexpr int kMaxCascade = 64;    // cascade depth = popcount(number of blocks) <= 63

/// Accumulator: int64 for integers and bool (PyTorch sums them to int64), double for double,
/// float for float and the 16-bit floats.
template <typename T>
using acc_t = std::conditional_t<std::is_integral_v<T>, int64_t,
                                 std::conditional_t<std::is_same_v<T, double>, double, float>>;

template <typename Acc, typename S>
inline Acc load(S v) {
  return static_cast<Acc>(static_cast<compute_t<S>>(v));
}
template <typename O, typename Acc>
inline O store(Acc v) {
  if constexpr (std::is_same_v<O, Half> || std::is_same_v<O, BFloat16>)
    return O(static_cast<float>(v));
  else if constexpr (std::is_same_v<O, bool>)
    return v != Acc(0);
  else
    return static_cast<O>(v);
}

/// Pairwise sum: 16 interleaved lanes for up to 256 elements (vectorises without reassociating),
/// halves above that. Error grows like log(n), not n.
template <typename Acc, typename S>
Acc pairwise_sum(const S* p, int64_t n) {
  constexpr int L = 16;
  if (n <= 256) {
    Acc lane[L] = {};
    int64_t i = 0;
    for (; i + L <= n; i += L)
      for (int j = 0; j < L; ++j) lane[j] += load<Acc>(p[i + j]);
    for (int j = 0; i < n; ++i, ++j) lane[j] += load<Acc>(p[i]);
    for (int w = L / 2; w > 0; w /= 2)
      for (int j = 0; j < w; ++j) lane[j] += lane[j + w];
    return lane[0];
  }
  int64_t h = ((n / 2) + L - 1) / L * L;
  return pairwise_sum<Acc>(p, h) + pairwise_sum<Acc>(p + h, n - h);
}

template <typename Acc>
struct SumOp {
  static Acc identity() { return Acc(0); }
  static Acc combine(Acc a, Acc b) { return a + b; }
  static Acc step(Acc a, Acc b) { return a + b; }
  template <typename S>
  static Acc block(const S* p, int64_t n) {
    return pairwise_sum<Acc>(p, n);
  }
};

template <typename Acc>
struct ProdOp {
  static Acc identity() { return Acc(1); }
  static Acc combine(Acc a, Acc b) { return a * b; }
  static Acc step(Acc a, Acc b) { return a * b; }
  template <typename S>
  static Acc block(const S* p, int64_t n) {
    Acc r = Acc(1);
    for (int64_t i = 0; i < n; ++i) r *= load<Acc>(p[i]);
    return r;
  }
};

/// max (kMax) or min; NaN wins, like PyTorch.
template <typename Acc, bool kMax>
struct ExtremeOp {
  static Acc identity() {
    if constexpr (std::is_floating_point_v<Acc>)
      return kMax ? -std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::infinity();
    else
      return kMax ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
  }
  static Acc combine(Acc a, Acc b) {
    if constexpr (std::is_floating_point_v<Acc>) {
      if (std::isnan(a)) return a;
      if (std::isnan(b)) return b;
    }
    return (kMax ? a >= b : a <= b) ? a : b;
  }
  /// One step in a form GCC vectorises: a NaN is taken and then kept (nothing compares above it).
  static Acc step(Acc r, Acc v) {
    bool take = kMax ? v > r : v < r;
    if constexpr (std::is_floating_point_v<Acc>) take = take || v != v;
    return take ? v : r;
  }
  template <typename S>
  static Acc block(const S* p, int64_t n) {
    if constexpr (std::is_same_v<S, float> && std::is_same_v<Acc, float>) return extreme_f32<kMax>(p, n);
    constexpr int L = 16;
    Acc lane[L];
    for (int j = 0; j < L; ++j) lane[j] = identity();
    int64_t i = 0;
    for (; i + L <= n; i += L)
      for (int j = 0; j < L; ++j) lane[j] = step(lane[j], load<Acc>(p[i + j]));
    for (int j = 0; i < n; ++i, ++j) lane[j] = step(lane[j], load<Acc>(p[i]));
    Acc r = lane[0];
    for (int j = 1; j < L; ++j) r = combine(r, lane[j]);
    return r;
  }
};
template <typename Acc>
using MaxOp = ExtremeOp<Acc, true>;
template <typename Acc>
using MinOp = ExtremeOp<Acc, false>;

/// Binary cascade of block results: merging equal-sized subtrees as they complete gives the same
/// tree as a pairwise sum over the blocks, using O(log) state.
template <typename Op, typename Acc>
struct Cascade {
  Acc s[kMaxCascade];
  int depth = 0;
  int64_t count = 0;
  void push(Acc v) {
    s[depth++] = v;
    for (int64_t c = ++count; (c & 1) == 0; c >>= 1, --depth)
      s[depth - 2] = Op::combine(s[depth - 2], s[depth - 1]);
  }
  Acc result() const {
    if (depth == 0) return Op::identity();
    Acc r = s[depth - 1];
    for (int i = depth - 2; i >= 0; --i) r = Op::combine(s[i], r);
    return r;
  }
};

struct Plan {
  cpu::Loop<1> kept;  // over the outputs, row-major; strides into the input
  cpu::Loop<1> red;   // over the reduced elements of one output
  int64_t nout = 0, m = 0;
  bool contig_red = false;  // the reduced elements of one output are one contiguous run
  bool tiled = false;       // path B
};

Plan make_plan(const Tensor& x, const Shape& dims) {
  Shape ks, kst, rs, rst;
  int j = 0;
  for (int d = 0; d < x.dim(); ++d) {
    bool reduced = j < dims.size() && dims[j] == d;
    (reduced ? rs : ks).push_back(x.shape()[d]);
    (reduced ? rst : kst).push_back(x.strides()[d]);
    j += reduced;
  }
  Plan P;
  const Shape* kp[1] = {&kst};
  const Shape* rp[1] = {&rst};
  P.kept = cpu::make_loop<1>(ks, kp);
  P.red = cpu::make_loop<1>(rs, rp);
  P.nout = ks.numel();
  P.m = rs.numel();
  P.contig_red = P.m == 1 || (P.red.ndim == 1 && P.red.stride[0][0] == 1);
  int kd = P.kept.ndim - 1;
  P.tiled = !P.contig_red && P.kept.stride[0][kd] == 1 && P.kept.size[kd] >= 8;
  return P;
}

template <typename Op, typename T, typename Acc = acc_t<T>>
Acc reduce_block(const Plan& P, const T* base, int64_t b, int64_t e) {
  if (P.contig_red) return Op::block(base + b, e - b);
  compute_t<T> buf[kBlock];
  int64_t k = 0;
  cpu::for_each_row(P.red, b, e, [&](const int64_t* off, const int64_t* st, int64_t len) {
    const T* p = base + off[0];
    for (int64_t i = 0; i < len; ++i) buf[k++] = static_cast<compute_t<T>>(p[i * st[0]]);
  });
  return Op::block(buf, k);
}

template <typename Op, typename T, typename Acc = acc_t<T>>
Acc reduce_one(const Plan& P, const T* base) {
  Cascade<Op, Acc> c;
  for (int64_t b = 0; b < P.m; b += kBlock) c.push(reduce_block<Op>(P, base, b, std::min(P.m, b + kBlock)));
  return c.result();
}

// Path A with the outputs split across threads.
template <typename Op, typename T, typename O>
void reduce_outputs(const Plan& P, const T* x, O* out) {
  int64_t grain = std::max<int64_t>(1, cpu::kGrainSize / std::max<int64_t>(P.m, 1));
  cpu::parallel_for(0, P.nout, grain, [&](int64_t b, int64_t e) {
    int64_t o = b;
    cpu::for_each_row(P.kept, b, e, [&](const int64_t* off, const int64_t* st, int64_t len) {
      for (int64_t i = 0; i < len; ++i) out[o++] = store<O>(reduce_one<Op>(P, x + off[0] + i * st[0]));
    });
  });
}

// Path A with the blocks of each output split across threads (few outputs, long reductions).
template <typename Op, typename T, typename O, typename Acc = acc_t<T>>
void reduce_blocks(const Plan& P, const T* x, O* out) {
  int64_t nb = (P.m + kBlock - 1) / kBlock;
  std::vector<Acc> parts(nb);
  int64_t o = 0;
  cpu::for_each_row(P.kept, 0, P.nout, [&](const int64_t* off, const int64_t* st, int64_t len) {
    for (int64_t i = 0; i < len; ++i, ++o) {
      const T* base = x + off[0] + i * st[0];
      cpu::parallel_for(0, nb, cpu::kGrainSize / kBlock, [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k)
          parts[k] = reduce_block<Op>(P, base, k * kBlock, std::min(P.m, (k + 1) * kBlock));
      });
      Cascade<Op, Acc> c;
      for (int64_t k = 0; k < nb; ++k) c.push(parts[k]);
      out[o] = store<O>(c.result());
    }
  });
}

// Path B: w (<= kTile) neighbouring outputs whose inputs are contiguous.
template <typename Op, typename T, typename O, typename Acc = acc_t<T>>
void reduce_tile(const Plan& P, const T* base, int w, O* out) {
  Acc stack[kMaxCascade][kTile];
  Acc cur[kTile];
  int depth = 0;
  int64_t count = 0;
  for (int64_t b = 0; b < P.m; b += kRowBlock) {
    for (int t = 0; t < w; ++t) cur[t] = Op::identity();
    cpu::for_each_row(P.red, b, std::min(P.m, b + kRowBlock),
                      [&](const int64_t* off, const int64_t* st, int64_t len) {
                        for (int64_t i = 0; i < len; ++i) {
                          const T* p = base + off[0] + i * st[0];
                          for (int t = 0; t < w; ++t) cur[t] = Op::step(cur[t], load<Acc>(p[t]));
                        }
                      });
    for (int t = 0; t < w; ++t) stack[depth][t] = cur[t];
    ++depth;
    for (int64_t c = ++count; (c & 1) == 0; c >>= 1, --depth)
      for (int t = 0; t < w; ++t) stack[depth - 2][t] = Op::combine(stack[depth - 2][t], stack[depth - 1][t]);
  }
  for (int t = 0; t < w; ++t) {
    Acc r = stack[depth - 1][t];
    for (int i = depth - 2; i >= 0; --i) r = Op::combine(stack[i][t], r);
    out[t] = store<O>(r);
  }
}

template <typename Op, typename T, typename O>
void reduce_tiled(const Plan& P, const T* x, O* out) {
  int64_t grain = std::max<int64_t>(kTile, cpu::kGrainSize / P.m);
  cpu::parallel_for(0, P.nout, grain, [&](int64_t b, int64_t e) {
    int64_t o = b;
    cpu::for_each_row(P.kept, b, e, [&](const int64_t* off, const int64_t*, int64_t len) {
      for (int64_t t0 = 0; t0 < len; t0 += kTile)
        reduce_tile<Op>(P, x + off[0] + t0, static_cast<int>(std::min<int64_t>(kTile, len - t0)),
                        out + o + t0);
      o += len;
    });
  });
}

template <template <typename> class OpT, typename T, typename O>
void run_typed(const Tensor& x, Tensor& out, const Shape& dims) {
  using Op = OpT<acc_t<T>>;
  O* o = static_cast<O*>(out.raw_data());
  if (out.numel() == 0) return;
  const T* xp = static_cast<const T*>(x.raw_data());
  Plan P = make_plan(x, dims);
  if (P.m == 0) {  // empty reduction: the identity (infer rejects it for amax/amin)
    for (int64_t k = 0; k < P.nout; ++k) o[k] = store<O>(Op::identity());
  } else if (P.tiled) {
    reduce_tiled<Op>(P, xp, o);
  } else if (P.m > kBlock && P.nout < 2 * cpu::num_threads()) {
    reduce_blocks<Op>(P, xp, o);
  } else {
    reduce_outputs<Op>(P, xp, o);
  }
}

// The output dtype is either the input's or int64 (integer sum/prod).
template <template <typename> class OpT>
void run(const Tensor* in, Tensor* out, const Attrs& a) {
  visit_dtype(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (out[0].dtype() == in[0].dtype())
      run_typed<OpT, T, T>(in[0], out[0], a.shape);
    else
      run_typed<OpT, T, int64_t>(in[0], out[0], a.shape);
  });
}

}  // namespace

void sum(const Tensor* in, int, Tensor* out, const Attrs& a) { run<SumOp>(in, out, a); }
void prod(const Tensor* in, int, Tensor* out, const Attrs& a) { run<ProdOp>(in, out, a); }
void amax(const Tensor* in, int, Tensor* out, const Attrs& a) { run<MaxOp>(in, out, a); }
void amin(const Tensor* in, int, Tensor* out, const Attrs& a) { run<MinOp>(in, out, a); }

template <typename T>
T sum_contiguous(const T* p, int64_t n) {
  Plan P;
  P.m = n;
  P.contig_red = true;
  return reduce_one<SumOp<T>>(P, p);
}
template float sum_contiguous<float>(const float*, int64_t);
template double sum_contiguous<double>(const double*, int64_t);

}  // namespace nabla::ops::reduce_cpu
