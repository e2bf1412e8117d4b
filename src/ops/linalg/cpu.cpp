// CPU kernels of the linalg family. float32/float64 go to BLAS (gemm.h) reading transposed views
// through the transpose flags; float16/bfloat16 are widened to float32 around one sgemm;
// integers use plain loops.
#include <algorithm>

#include "nabla/autograd.h"
#include "ops/linalg/gemm.h"
#include "ops/linalg/linalg.h"
#include "ops/linalg/widen.h"

namespace nabla::ops::linalg_cpu {
namespace {

using cpu::blas_layout;
using cpu::BlasMat;
using cpu::GemmShape;

// The strides of a's batch dims seen through broadcasting to the output's batch dims.
struct Batch {
  int nd = 0;
  int64_t size[kMaxDims] = {};
  int64_t sa[kMaxDims] = {}, sb[kMaxDims] = {};
  int64_t count = 1;
  Batch(const Shape& out, const Tensor& a, const Tensor& b) {
    nd = out.size() - 2;
    for (int i = 0; i < nd; ++i) {
      size[i] = out[i];
      count *= out[i];
      int ia = i - (nd - (a.dim() - 2)), ib = i - (nd - (b.dim() - 2));
      sa[i] = ia < 0 || a.shape()[ia] == 1 ? 0 : a.strides()[ia];
      sb[i] = ib < 0 || b.shape()[ib] == 1 ? 0 : b.strides()[ib];
    }
  }
  void offsets(int64_t i, int64_t& oa, int64_t& ob) const {
    oa = ob = 0;
    for (int d = nd - 1; d >= 0; --d) {
      int64_t k = i % size[d];
      i /= size[d];
      oa += k * sa[d];
      ob += k * sb[d];
    }
  }
  // True when a's batch dims stack its rows evenly (stride M * ld): the batch folds into M.
  bool folds_into_rows(int64_t rows_stride) const {
    int64_t expect = rows_stride;
    for (int d = nd - 1; d >= 0; --d) {
      if (size[d] == 1) continue;
      if (sa[d] != expect) return false;
      expect *= size[d];
    }
    return true;
  }
  bool b_shared() const {
    for (int d = 0; d < nd; ++d)
      if (sb[d] != 0) return false;
    return true;
  }
};

BlasMat last2_layout(const Tensor& t) {
  return blas_layout(t.size(-2), t.size(-1), t.stride(-2), t.stride(-1));
}

// Contiguous copy for operands whose strides BLAS cannot read (rare: e.g. every-other-column slices).
Tensor contiguous_nograd(const Tensor& t) {
  NoGradGuard no_grad;
  return t.contiguous();
}

template <typename T>
void matmul_blas(Tensor a, Tensor b, const Tensor& out) {
  const Shape& os = out.shape();
  int nd = os.size();
  int64_t M = os[nd - 2], N = os[nd - 1], K = a.size(-1);
  T* c = static_cast<T*>(out.raw_data());
  if (K == 0) {
    std::fill(c, c + out.numel(), T(0));
    return;
  }
  BlasMat la = last2_layout(a), lb = last2_layout(b);
  if (!la.ok) la = last2_layout(a = contiguous_nograd(a));
  if (!lb.ok) lb = last2_layout(b = contiguous_nograd(b));
  Batch bt(os, a, b);
  GemmShape s{M, N, K, la, lb, N};
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  if (bt.count > 1 && !la.trans && bt.b_shared() && bt.folds_into_rows(M * la.ld)) {
    s.M = M * bt.count;  // [B, M, K] @ [K, N]: one GEMM of B*M rows
    cpu::gemm<T>(s, pa, pb, T(0), c);
    return;
  }
  cpu::gemm_batched<T>(s, bt.count, T(0), [&](int64_t i, const T*& A, const T*& B, T*& C) {
    int64_t oa, ob;
    bt.offsets(i, oa, ob);
    A = pa + oa;
    B = pb + ob;
    C = c + i * M * N;
  });
}

template <typename T>
void matmul_loop(const Tensor& a, const Tensor& b, const Tensor& out) {
  const Shape& os = out.shape();
  int nd = os.size();
  int64_t M = os[nd - 2], N = os[nd - 1], K = a.size(-1);
  Batch bt(os, a, b);
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* c = static_cast<T*>(out.raw_data());
  for (int64_t i = 0; i < bt.count; ++i) {
    int64_t oa, ob;
    bt.offsets(i, oa, ob);
    cpu::gemm_loop<T>(M, N, K, pa + oa, a.stride(-2), a.stride(-1), pb + ob, b.stride(-2), b.stride(-1),
                      c + i * M * N, N, false);
  }
}

// Row stride of x seen as [M, in] (leading dims folded), or -1 when they do not fold.
int64_t folded_row_stride(const Tensor& x) {
  int64_t rs = -1, expect = -1;
  for (int d = x.dim() - 2; d >= 0; --d) {
    if (x.shape()[d] == 1) continue;
    if (rs < 0) {
      rs = x.strides()[d];
    } else if (x.strides()[d] != expect) {
      return -1;
    }
    expect = x.strides()[d] * x.shape()[d];
  }
  return rs < 0 ? x.size(-1) : rs;  // a single row: any stride will do
}

template <typename T>
void linear_typed(Tensor x, Tensor w, const Tensor* bias, const Tensor& out) {
  int64_t O = w.size(0), I = w.size(1), M = out.numel() / O;
  T* c = static_cast<T*>(out.raw_data());
  if (bias) {
    const T* pb = static_cast<const T*>(bias->raw_data());
    int64_t bs = bias->stride(0);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < O; ++j) c[i * O + j] = pb[j * bs];
  } else if (I == 0) {
    std::fill(c, c + out.numel(), T(0));
  }
  if (I == 0) return;
  int64_t rs = folded_row_stride(x);
  BlasMat la = rs >= 0 ? blas_layout(M, I, rs, x.stride(-1)) : BlasMat{};
  if (!la.ok) {
    x = contiguous_nograd(x);
    rs = I;
    la = blas_layout(M, I, I, 1);
  }
  const T* px = static_cast<const T*>(x.raw_data());
  if constexpr (std::is_integral_v<T>) {
    cpu::gemm_loop<T>(M, O, I, px, rs, x.stride(-1), static_cast<const T*>(w.raw_data()), w.stride(1),
                      w.stride(0), c, O, bias != nullptr);
  } else {
    // B = W^T: element (k, j) is W[j, k]; a contiguous W is read with the transpose flag.
    BlasMat lb = blas_layout(I, O, w.stride(1), w.stride(0));
    if (!lb.ok) lb = blas_layout(I, O, 1, (w = contiguous_nograd(w)).stride(0));
    GemmShape s{M, O, I, la, lb, O};
    cpu::gemm<T>(s, px, static_cast<const T*>(w.raw_data()), bias ? T(1) : T(0), c);
  }
}

}  // namespace

void matmul(const Tensor* in, int, Tensor* out, const Attrs&) {
  const Tensor& o = out[0];
  if (o.numel() == 0) return;
  visit_dtype(o.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      matmul_blas<T>(in[0], in[1], o);
    } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      run_in_float32(in, 2, o, [](const Tensor* a, const Tensor& r) { matmul_blas<float>(a[0], a[1], r); });
    } else if constexpr (!std::is_same_v<T, bool>) {
      matmul_loop<T>(in[0], in[1], o);
    }
  });
}

void linear(const Tensor* in, int n, Tensor* out, const Attrs&) {
  const Tensor& o = out[0];
  if (o.numel() == 0) return;
  visit_dtype(o.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      run_in_float32(in, n, o, [n](const Tensor* a, const Tensor& r) {
        linear_typed<float>(a[0], a[1], n == 3 ? &a[2] : nullptr, r);
      });
    } else if constexpr (!std::is_same_v<T, bool>) {
      linear_typed<T>(in[0], in[1], n == 3 ? &in[2] : nullptr, o);
    }
  });
}

}  // namespace nabla::ops::linalg_cpu
