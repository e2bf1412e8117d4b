// Random-number ops. rand_uniform draws from nabla's default generator when its kernel runs, so a
// compiled graph (Dropout in a compiled training step) draws fresh numbers on every run, in the
// same sequence as the eager ops it was traced from: same seed, same results, eager or compiled.
// Graph passes treat the "random" family as impure (never folded, merged by CSE or hoisted).
#include "nabla/generator.h"
#include "ops/registry.h"

namespace nabla::ops {
namespace {

void rand_uniform_infer(const Tensor*, int n, const Attrs& a, TensorMeta* out) {
  NABLA_CHECK(n == 0, "rand_uniform: expected no inputs, got ", n);
  NABLA_CHECK(a.dtype == kFloat32 || a.dtype == kFloat64,
              "rand_uniform: dtype must be float32 or float64, got ", a.dtype);
  out[0] = {a.shape, a.dtype};
}

// Element order and conversions as nabla::rand's eager loop (creation.cpp): one draw per element,
// in index order, next_float for float32 and next_double for float64.
void rand_uniform_cpu(const Tensor*, int, Tensor* out, const Attrs& a) {
  Generator& g = default_generator();
  const int64_t n = out[0].numel();
  if (a.dtype == kFloat64) {
    double* p = static_cast<double*>(out[0].raw_data());
    for (int64_t i = 0; i < n; ++i) p[i] = g.next_double();
  } else {
    float* p = static_cast<float*>(out[0].raw_data());
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(static_cast<double>(g.next_float()));
  }
}

}  // namespace

void register_random_ops() {
  auto& r = define_op(OpId::rand_uniform);
  r.num_outputs = 1;
  r.infer = rand_uniform_infer;
  r.kernels[kCpu] = rand_uniform_cpu;
}

}  // namespace nabla::ops
