// CPU kernels of the index family. Every index is range-checked before anything is written.
// gather / index_select are pure copies, so they dispatch on the element size only. scatter_add /
// index_add accumulate: threads split the output positions *across* the indexed dim (which no two
// threads share), and each thread walks the indexed dim in ascending order, so every output
// element sums its contributions in one fixed order whatever the thread count. No atomics.
#include <algorithm>
#include <cstring>

#include "nabla/autograd.h"
#include "ops/cpu_loops.h"
#include "ops/index/index.h"

namespace nabla::ops::index_cpu {
namespace {

// Calls f(I{}) with the C++ type of an int64/int32 index tensor.
template <typename F>
void visit_index(const Tensor& index, F&& f) {
  if (index.dtype() == kInt32)
    f(int32_t{});
  else
    f(int64_t{});
}

// Calls f(T{}) with an unsigned type of the element size: copies need no more than that.
template <typename F>
void visit_size(DType t, F&& f) {
  switch (dtype_size(t)) {
    case 1:
      return f(uint8_t{});
    case 2:
      return f(uint16_t{});
    case 4:
      return f(uint32_t{});
    default:
      return f(uint64_t{});
  }
}

/// Throws `op: index v is out of range for dim d with size n` for the first bad value.
void check_indices(const Tensor& index, int64_t size, int dim, const char* op) {
  if (index.numel() == 0) return;
  const Shape* strides[1] = {&index.strides()};
  auto L = cpu::make_loop<1>(index.shape(), strides);
  visit_index(index, [&](auto tag) {
    using I = decltype(tag);
    const I* p = static_cast<const I*>(index.raw_data());
    cpu::for_each_row(L, 0, L.numel, [&](const int64_t* off, const int64_t* st, int64_t len) {
      for (int64_t k = 0; k < len; ++k) {
        int64_t v = p[off[0] + k * st[0]];
        NABLA_CHECK(v >= 0 && v < size, op, ": index ", v, " is out of range for dim ", dim, " with size ",
                    size);
      }
    });
  });
}

// Shape and strides with one dim removed (the positions that the indexed dim does not touch).
Shape drop(const Shape& s, int d) {
  Shape r = s;
  r.erase(d);
  return r;
}

// out = src (same shape), via the movement family's strided copy kernel.
void copy_into(const Tensor& src, Tensor& out) {
  Attrs a;
  a.dtype = out.dtype();
  op_def(OpId::copy).kernels[kCpu](&src, 1, &out, a);
}

template <typename T>
inline T add_scaled(T acc, T v, cpu::compute_t<T> alpha) {
  using C = cpu::compute_t<T>;
  if constexpr (std::is_same_v<T, bool>)
    return acc || (v && alpha);
  else
    return T(static_cast<C>(acc) + alpha * static_cast<C>(v));
}

}  // namespace

void gather(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor &x = in[0], &index = in[1];
  Tensor& o = out[0];
  int d = static_cast<int>(a.i[0]);
  check_indices(index, x.shape()[d], d, "gather");
  if (o.numel() == 0) return;
  // x seen through the index's shape with the indexed dim's stride zeroed (added per element).
  Shape xs = x.strides();
  int64_t sd = xs[d];
  xs[d] = 0;
  const Shape* strides[3] = {&o.strides(), &index.strides(), &xs};
  auto L = cpu::make_loop<3>(index.shape(), strides);
  visit_index(index, [&](auto itag) {
    using I = decltype(itag);
    visit_size(o.dtype(), [&](auto ttag) {
      using T = decltype(ttag);
      T* op = static_cast<T*>(o.raw_data());
      const I* ip = static_cast<const I*>(index.raw_data());
      const T* xp = static_cast<const T*>(x.raw_data());
      cpu::parallel_rows(L, [&](const int64_t* off, const int64_t* st, int64_t len) {
        if (st[0] == 1 && st[1] == 1 && st[2] == 0) {  // gathering along the innermost dim
          T* o = op + off[0];
          const I* i = ip + off[1];
          const T* xr = xp + off[2];
          for (int64_t k = 0; k < len; ++k) o[k] = xr[static_cast<int64_t>(i[k]) * sd];
          return;
        }
        for (int64_t k = 0; k < len; ++k)
          op[off[0] + k * st[0]] = xp[off[2] + k * st[2] + static_cast<int64_t>(ip[off[1] + k * st[1]]) * sd];
      });
    });
  });
}

void scatter_add(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor &x = in[0], &index = in[1], &src = in[2];
  Tensor& o = out[0];
  int d = static_cast<int>(a.i[0]);
  check_indices(index, x.shape()[d], d, "scatter_add");
  copy_into(x, o);
  if (index.numel() == 0) return;
  int64_t J = index.shape()[d], osd = o.strides()[d], isd = index.strides()[d], ssd = src.strides()[d];
  Shape pos = drop(index.shape(), d), os = drop(o.strides(), d), is = drop(index.strides(), d),
        ss = drop(src.strides(), d);
  const Shape* strides[3] = {&os, &is, &ss};
  auto L = cpu::make_loop<3>(pos, strides);
  visit_index(index, [&](auto itag) {
    using I = decltype(itag);
    visit_dtype(o.dtype(), [&](auto ttag) {
      using T = decltype(ttag);
      T* op = static_cast<T*>(o.raw_data());
      const I* ip = static_cast<const I*>(index.raw_data());
      const T* sp = static_cast<const T*>(src.raw_data());
      cpu::compute_t<T> one(1);
      cpu::parallel_for(0, L.numel, std::max<int64_t>(1, cpu::kGrainSize / J), [&](int64_t b, int64_t e) {
        for (int64_t j = 0; j < J; ++j)
          cpu::for_each_row(L, b, e, [&](const int64_t* off, const int64_t* st, int64_t len) {
            const I* ij = ip + off[1] + j * isd;
            const T* sj = sp + off[2] + j * ssd;
            for (int64_t k = 0; k < len; ++k) {
              T& dst = op[off[0] + k * st[0] + static_cast<int64_t>(ij[k * st[1]]) * osd];
              dst = add_scaled(dst, sj[k * st[2]], one);
            }
          });
      });
    });
  });
}

void index_select(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor &x = in[0], &index = in[1];
  Tensor& o = out[0];
  int d = static_cast<int>(a.i[0]);
  check_indices(index, x.shape()[d], d, "index_select");
  if (o.numel() == 0) return;
  int64_t K = index.numel(), istr = index.strides()[0], osd = o.strides()[d], xsd = x.strides()[d];
  Shape pos = drop(o.shape(), d), os = drop(o.strides(), d), xs = drop(x.strides(), d);
  const Shape* strides[2] = {&os, &xs};
  auto L = cpu::make_loop<2>(pos, strides);
  int64_t P = L.numel;
  visit_index(index, [&](auto itag) {
    using I = decltype(itag);
    visit_size(o.dtype(), [&](auto ttag) {
      using T = decltype(ttag);
      T* op = static_cast<T*>(o.raw_data());
      const I* ip = static_cast<const I*>(index.raw_data());
      const T* xp = static_cast<const T*>(x.raw_data());
      // One flat range over (k, position): splits well both for many short rows (embedding
      // lookups) and for few long ones.
      cpu::parallel_for(0, K * P, cpu::kGrainSize, [&](int64_t b, int64_t e) {
        for (int64_t k = b / P; k * P < e; ++k) {
          T* ok = op + k * osd;
          const T* xk = xp + static_cast<int64_t>(ip[k * istr]) * xsd;
          int64_t pb = std::max(b, k * P) - k * P, pe = std::min(e, (k + 1) * P) - k * P;
          cpu::for_each_row(L, pb, pe, [&](const int64_t* off, const int64_t* st, int64_t len) {
            if (st[0] == 1 && st[1] == 1) {
              std::memcpy(ok + off[0], xk + off[1], len * sizeof(T));
              return;
            }
            for (int64_t q = 0; q < len; ++q) ok[off[0] + q * st[0]] = xk[off[1] + q * st[1]];
          });
        }
      });
    });
  });
}

void index_add(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor &x = in[0], &index = in[1], &src = in[2];
  Tensor& o = out[0];
  int d = static_cast<int>(a.i[0]);
  check_indices(index, x.shape()[d], d, "index_add");
  copy_into(x, o);
  if (o.numel() == 0 || index.numel() == 0) return;
  int64_t K = index.numel(), istr = index.strides()[0], osd = o.strides()[d], ssd = src.strides()[d];
  Shape pos = drop(o.shape(), d), os = drop(o.strides(), d), ss = drop(src.strides(), d);
  const Shape* strides[2] = {&os, &ss};
  auto L = cpu::make_loop<2>(pos, strides);
  visit_index(index, [&](auto itag) {
    using I = decltype(itag);
    visit_dtype(o.dtype(), [&](auto ttag) {
      using T = decltype(ttag);
      using C = cpu::compute_t<T>;
      T* op = static_cast<T*>(o.raw_data());
      const I* ip = static_cast<const I*>(index.raw_data());
      const T* sp = static_cast<const T*>(src.raw_data());
      C alpha = static_cast<C>(a.f[0]);
      cpu::parallel_for(0, L.numel, std::max<int64_t>(1, cpu::kGrainSize / K), [&](int64_t b, int64_t e) {
        for (int64_t k = 0; k < K; ++k) {
          T* ok = op + static_cast<int64_t>(ip[k * istr]) * osd;
          const T* sk = sp + k * ssd;
          cpu::for_each_row(L, b, e, [&](const int64_t* off, const int64_t* st, int64_t len) {
            for (int64_t q = 0; q < len; ++q) {
              T& dst = ok[off[0] + q * st[0]];
              dst = add_scaled(dst, sk[off[1] + q * st[1]], alpha);
            }
          });
        }
      });
    });
  });
}

}  // namespace nabla::ops::index_cpu
