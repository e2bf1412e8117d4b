// CPU pooling kernels: plain window loops, parallel over (n, c) planes. Each plane is computed by
// one thread in a fixed order, so results do not depend on the thread count. Inputs may have any
// strides; outputs are fresh and contiguous. float16/bfloat16 accumulate in float.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/conv/conv.h"
#include "ops/cpu_loops.h"

namespace nabla::ops::conv_cpu {
namespace {

// A 4-d tensor read through its strides, one (n, c) plane at a time.
template <typename T>
struct Planes {
  const T* p;
  int64_t C, s0, s1, s2, s3;
  explicit Planes(const Tensor& t)
      : p(static_cast<const T*>(t.raw_data())),
        C(t.size(1)),
        s0(t.stride(0)),
        s1(t.stride(1)),
        s2(t.stride(2)),
        s3(t.stride(3)) {}
  const T* plane(int64_t i) const { return p + (i / C) * s0 + (i % C) * s1; }
  T at(const T* plane, int64_t h, int64_t w) const { return plane[h * s2 + w * s3]; }
};

// Runs f(plane) over all planes, split across threads when the work is large.
template <typename F>
void for_planes(int64_t planes, int64_t work_per_plane, const F& f) {
  int64_t grain = std::max<int64_t>(1, cpu::kGrainSize / std::max<int64_t>(1, work_per_plane));
  cpu::parallel_for(0, planes, grain, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) f(p);
  });
}

// The window of output (oh, ow) clipped to the input, plus PyTorch's count_include_pad divisor.
struct Window {
  int64_t h0, h1, w0, w1, pool_size;
  Window(const PoolGeom& G, int64_t oh, int64_t ow) {
    h0 = oh * G.sh - G.ph;
    w0 = ow * G.sw - G.pw;
    h1 = std::min(h0 + G.kh, G.H + G.ph);
    w1 = std::min(w0 + G.kw, G.W + G.pw);
    pool_size = (h1 - h0) * (w1 - w0);
    h0 = std::max<int64_t>(h0, 0);
    w0 = std::max<int64_t>(w0, 0);
    h1 = std::min(h1, G.H);
    w1 = std::min(w1, G.W);
  }
};

// Calls f(T{}) for the floating dtypes (the only ones infer lets through).
template <typename F>
void visit_float(DType d, const F& f) {
  visit_dtype(d, [&](auto tag) {
    using U = decltype(tag);
    if constexpr (std::is_floating_point_v<cpu::compute_t<U>>) f(U{});
  });
}

}  // namespace

void max_pool2d(const Tensor* in, int, Tensor* out, const Attrs& a) {
  PoolGeom G = pool_geom(in[0].shape(), a);
  int64_t* pi = static_cast<int64_t*>(out[1].raw_data());
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> x(in[0]);
    T* pv = static_cast<T*>(out[0].raw_data());
    for_planes(G.planes, G.Ho * G.Wo * G.kh * G.kw, [&](int64_t p) {
      const T* xp = x.plane(p);
      int64_t o = p * G.Ho * G.Wo;
      for (int64_t oh = 0; oh < G.Ho; ++oh)
        for (int64_t ow = 0; ow < G.Wo; ++ow, ++o) {
          Window win(G, oh, ow);
          A best = -std::numeric_limits<A>::infinity();
          int64_t bi = win.h0 * G.W + win.w0;
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w) {
              A v = static_cast<A>(x.at(xp, h, w));
              if (v > best || std::isnan(v)) {  // NaN propagates, as in PyTorch
                best = v;
                bi = h * G.W + w;
              }
            }
          pv[o] = T(best);
          pi[o] = bi;
        }
    });
  });
}

void max_pool2d_grad(const Tensor* in, int, Tensor* out, const Attrs& a) {
  PoolGeom G = pool_geom(out[0].shape(), a);
  Planes<int64_t> idx(in[1]);
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> g(in[0]);
    T* px = static_cast<T*>(out[0].raw_data());
    for_planes(G.planes, G.H * G.W + G.Ho * G.Wo, [&](int64_t p) {
      T* gx = px + p * G.H * G.W;
      std::fill(gx, gx + G.H * G.W, T(0));
      const T* gp = g.plane(p);
      const int64_t* ip = idx.plane(p);
      for (int64_t oh = 0; oh < G.Ho; ++oh)
        for (int64_t ow = 0; ow < G.Wo; ++ow) {
          int64_t k = idx.at(ip, oh, ow);
          gx[k] = T(static_cast<A>(gx[k]) + static_cast<A>(g.at(gp, oh, ow)));
        }
    });
  });
}

void avg_pool2d(const Tensor* in, int, Tensor* out, const Attrs& a) {
  PoolGeom G = pool_geom(in[0].shape(), a);
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> x(in[0]);
    T* po = static_cast<T*>(out[0].raw_data());
    for_planes(G.planes, G.Ho * G.Wo * G.kh * G.kw, [&](int64_t p) {
      const T* xp = x.plane(p);
      T* op = po + p * G.Ho * G.Wo;
      for (int64_t oh = 0; oh < G.Ho; ++oh)
        for (int64_t ow = 0; ow < G.Wo; ++ow) {
          Window win(G, oh, ow);
          A s = 0;
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w) s += static_cast<A>(x.at(xp, h, w));
          op[oh * G.Wo + ow] = T(s / static_cast<A>(win.pool_size));
        }
    });
  });
}

void avg_pool2d_grad(const Tensor* in, int, Tensor* out, const Attrs& a) {
  PoolGeom G = pool_geom(out[0].shape(), a);
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> g(in[0]);
    T* px = static_cast<T*>(out[0].raw_data());
    for_planes(G.planes, G.H * G.W + G.Ho * G.Wo * G.kh * G.kw, [&](int64_t p) {
      T* gx = px + p * G.H * G.W;
      std::fill(gx, gx + G.H * G.W, T(0));
      const T* gp = g.plane(p);
      for (int64_t oh = 0; oh < G.Ho; ++oh)
        for (int64_t ow = 0; ow < G.Wo; ++ow) {
          Window win(G, oh, ow);
          A v = static_cast<A>(g.at(gp, oh, ow)) / static_cast<A>(win.pool_size);
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w)
              gx[h * G.W + w] = T(static_cast<A>(gx[h * G.W + w]) + v);
        }
    });
  });
}

void adaptive_avg_pool2d(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor& x = in[0];
  int64_t H = x.size(2), W = x.size(3), OH = a.i[0], OW = a.i[1];
  visit_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> xs(x);
    T* po = static_cast<T*>(out[0].raw_data());
    for_planes(x.size(0) * x.size(1), H * W, [&](int64_t p) {
      const T* xp = xs.plane(p);
      T* op = po + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
          A s = 0;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) s += static_cast<A>(xs.at(xp, h, w));
          op[oh * OW + ow] = T(s / static_cast<A>((h1 - h0) * (w1 - w0)));
        }
      }
    });
  });
}

void adaptive_avg_pool2d_grad(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Shape& xs = out[0].shape();
  int64_t H = xs[2], W = xs[3], OH = a.i[0], OW = a.i[1];
  visit_float(in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = cpu::compute_t<T>;
    Planes<T> g(in[0]);
    T* px = static_cast<T*>(out[0].raw_data());
    for_planes(xs[0] * xs[1], H * W, [&](int64_t p) {
      T* gx = px + p * H * W;
      std::fill(gx, gx + H * W, T(0));
      const T* gp = g.plane(p);
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
          A v = static_cast<A>(g.at(gp, oh, ow)) / static_cast<A>((h1 - h0) * (w1 - w0));
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) gx[h * W + w] = T(static_cast<A>(gx[h * W + w]) + v);
        }
      }
    });
  });
}

}  // namespace nabla::ops::conv_cpu
