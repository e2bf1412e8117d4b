// fused_elementwise: a chain of float32 elementwise ops run as one loop (program format: fused.h).
// The kernel walks the output in tiles of 256 floats; for each tile it runs every instruction with
// the same vector code as the ops' own kernels (unary_math.h, plain IEEE + - * / for the binary
// ops), so intermediate results live in L1-sized tile buffers and memory is read and written once.
// Graph-only: the fusion pass creates it after autodiff, so it has no VJP.
#include "ops/elementwise/fused.h"

#include <cstring>
#include <sstream>

#include "backend/cpu/parallel.h"
#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/simd.h"
#include "ops/elementwise/unary_math.h"

namespace nabla::ops {
namespace fused {

bool supported(OpId op, bool* binary) {
  bool bin = false, ok = true;
  switch (op) {
    case OpId::add:
    case OpId::sub:
    case OpId::mul:
    case OpId::div:
      bin = true;
      break;
    case OpId::relu:
    case OpId::neg:
    case OpId::exp:
    case OpId::log:
    case OpId::sqrt:
    case OpId::rsqrt:
    case OpId::sigmoid:
    case OpId::tanh:
    case OpId::erf:
    case OpId::leaky_relu:
    case OpId::elu:
    case OpId::gelu:
      break;
    default:
      ok = false;
  }
  if (binary) *binary = bin;
  return ok;
}

bool to_instruction(OpId op, const Attrs& attrs, int a, int b, Instruction* out) {
  bool binary = false;
  if (!supported(op, &binary)) return false;
  Instruction ins{op, a, binary ? b : 0, 0.0f};
  switch (op) {
    case OpId::add:
    case OpId::sub:
      ins.param = attrs.i[0] ? static_cast<float>(attrs.f[0]) : 1.0f;
      break;
    case OpId::leaky_relu:
    case OpId::elu:
      ins.param = static_cast<float>(attrs.f[0]);
      break;
    case OpId::gelu:
      ins.param = attrs.i[0] ? 1.0f : 0.0f;
      break;
    default:
      break;
  }
  *out = ins;
  return true;
}

Attrs encode(const std::vector<Instruction>& program) {
  NABLA_CHECK(!program.empty() && program.size() <= static_cast<size_t>(kMaxInstructions),
              "fused_elementwise: a program holds 1 to ", kMaxInstructions, " instructions, got ",
              program.size());
  Attrs a;
  a.i[0] = static_cast<int64_t>(program.size());
  for (size_t k = 0; k < program.size(); ++k) {
    const Instruction& p = program[k];
    uint32_t bits;
    std::memcpy(&bits, &p.param, sizeof bits);
    uint64_t word = static_cast<uint64_t>(static_cast<uint16_t>(p.op)) |
                    (static_cast<uint64_t>(p.a & 0xFF) << 16) | (static_cast<uint64_t>(p.b & 0xFF) << 24) |
                    (static_cast<uint64_t>(bits) << 32);
    a.i[1 + k] = static_cast<int64_t>(word);
  }
  return a;
}

int decode(const Attrs& attrs, int n_inputs, Instruction* program) {
  NABLA_CHECK(n_inputs >= 1 && n_inputs <= kMaxInputs, "fused_elementwise: expected 1 to ", kMaxInputs,
              " inputs, got ", n_inputs);
  const int64_t n = attrs.i[0];
  NABLA_CHECK(n >= 1 && n <= kMaxInstructions, "fused_elementwise: the program must hold 1 to ",
              kMaxInstructions, " instructions, but i[0] says ", n);
  for (int k = 0; k < n; ++k) {
    const uint64_t word = static_cast<uint64_t>(attrs.i[1 + k]);
    const uint64_t op = word & 0xFFFF;
    NABLA_CHECK(op < static_cast<uint64_t>(kNumOps), "fused_elementwise: instruction ", k, " names op id ",
                op, ", which does not exist");
    Instruction& p = program[k];
    p.op = static_cast<OpId>(op);
    bool binary = false;
    NABLA_CHECK(supported(p.op, &binary), "fused_elementwise: instruction ", k, " is ", op_name(p.op),
                ", which a fused loop cannot run");
    p.a = static_cast<int>((word >> 16) & 0xFF);
    p.b = static_cast<int>((word >> 24) & 0xFF);
    const uint32_t bits = static_cast<uint32_t>(word >> 32);
    std::memcpy(&p.param, &bits, sizeof bits);
    const int regs = n_inputs + k;  // registers defined before instruction k
    NABLA_CHECK(p.a < regs && (!binary || p.b < regs), "fused_elementwise: instruction ", k, " (",
                op_name(p.op), ") reads register ", std::max(p.a, binary ? p.b : 0), ", but only ", regs,
                " are defined before it");
  }
  return static_cast<int>(n);
}

std::string describe(const Attrs& attrs, int n_inputs) {
  Instruction program[kMaxInstructions];
  const int n = decode(attrs, n_inputs, program);
  auto reg = [n_inputs](int r) {
    return r < n_inputs ? "#" + std::to_string(r) : "$" + std::to_string(r - n_inputs);
  };
  std::ostringstream os;
  for (int k = 0; k < n; ++k) {
    const Instruction& p = program[k];
    bool binary = false;
    supported(p.op, &binary);
    os << (k ? "; " : "") << "$" << k << " = " << op_name(p.op) << "(" << reg(p.a);
    if (binary) os << ", " << reg(p.b);
    os << ")";
    const bool has_param = ((p.op == OpId::add || p.op == OpId::sub) && p.param != 1.0f) ||
                           p.op == OpId::leaky_relu || p.op == OpId::elu ||
                           (p.op == OpId::gelu && p.param != 0);
    if (has_param) os << " " << (p.op == OpId::gelu ? "tanh" : std::to_string(p.param).c_str());
  }
  return os.str();
}

}  // namespace fused

namespace {

using simd::VF;
constexpr int64_t kTile = 256;

template <typename F>
void map2(const float* x, const float* z, float* y, int64_t m, const F& f) {
  int64_t i = 0;
  for (; i + simd::kW <= m; i += simd::kW) simd::vstore(y + i, f(simd::vload(x + i), simd::vload(z + i)));
  if (i < m) {
    float bx[simd::kW] = {}, bz[simd::kW] = {};
    std::memcpy(bx, x + i, (m - i) * sizeof(float));
    std::memcpy(bz, z + i, (m - i) * sizeof(float));
    simd::vstore(bx, f(simd::vload(bx), simd::vload(bz)));
    std::memcpy(y + i, bx, (m - i) * sizeof(float));
  }
}

template <typename Op>
void map_math(const Attrs& attrs, const float* x, float* y, int64_t m) {
  Op op(attrs);
  simd::map(x, y, m, [&op](VF v) { return op.vec(v); });
}

/// y = ins(x[, z]) over m floats.
void run_instruction(const fused::Instruction& ins, const float* x, const float* z, float* y, int64_t m) {
  using namespace unary_math;
  const VF zero = simd::vset(0.0f), p = simd::vset(ins.param);
  Attrs attrs;  // the op's attributes, rebuilt for the math structs
  switch (ins.op) {
    case OpId::add:
      if (ins.param == 1.0f)
        map2(x, z, y, m, [](VF a, VF b) { return a + b; });
      else
        map2(x, z, y, m, [p](VF a, VF b) { return a + p * b; });
      return;
    case OpId::sub:
      if (ins.param == 1.0f)
        map2(x, z, y, m, [](VF a, VF b) { return a - b; });
      else
        map2(x, z, y, m, [p](VF a, VF b) { return a - p * b; });
      return;
    case OpId::mul:
      return map2(x, z, y, m, [](VF a, VF b) { return a * b; });
    case OpId::div:
      return map2(x, z, y, m, [](VF a, VF b) { return a / b; });
    case OpId::relu:  // NaN stays NaN, like the op's kernel
      return simd::map(x, y, m, [zero](VF v) { return v < zero ? zero : v; });
    case OpId::neg:
      return simd::map(x, y, m, [](VF v) { return -v; });
    case OpId::leaky_relu:
      return simd::map(x, y, m, [zero, p](VF v) { return v > zero ? v : v * p; });
    case OpId::exp:
      return map_math<Exp>(attrs, x, y, m);
    case OpId::log:
      return map_math<Log>(attrs, x, y, m);
    case OpId::sqrt:
      return map_math<Sqrt>(attrs, x, y, m);
    case OpId::rsqrt:
      return map_math<Rsqrt>(attrs, x, y, m);
    case OpId::sigmoid:
      return map_math<Sigmoid>(attrs, x, y, m);
    case OpId::tanh:
      return map_math<Tanh>(attrs, x, y, m);
    case OpId::erf:
      return map_math<Erf>(attrs, x, y, m);
    case OpId::elu:
      attrs.f[0] = ins.param;
      return map_math<Elu>(attrs, x, y, m);
    case OpId::gelu:
      attrs.i[0] = ins.param != 0.0f;
      return map_math<Gelu>(attrs, x, y, m);
    default:
      return;  // decode() admits only the ops above
  }
}

void fused_infer(const Tensor* in, int n, const Attrs& attrs, TensorMeta* out) {
  fused::Instruction program[fused::kMaxInstructions];
  fused::decode(attrs, n, program);
  Shape s = in[0].shape();
  for (int k = 0; k < n; ++k) {
    NABLA_CHECK(in[k].dtype() == kFloat32, "fused_elementwise: input ", k, " must be float32, got ",
                in[k].dtype());
    s = broadcast_shapes(s, in[k].shape(), "fused_elementwise");
  }
  for (int k = 0; k < n; ++k)
    NABLA_CHECK(in[k].numel() == 1 || in[k].shape() == s, "fused_elementwise: input ", k, " has shape ",
                in[k].shape(), ", which is neither the output shape ", s, " nor a single element");
  out[0] = {s, kFloat32};
}

void fused_kernel(const Tensor* in, int n_in, Tensor* out, const Attrs& attrs) {
  fused::Instruction program[fused::kMaxInstructions];
  const int n_instr = fused::decode(attrs, n_in, program);
  const int64_t n = out[0].numel();
  if (n == 0) return;
  Tensor held[fused::kMaxInputs];
  const float* src[fused::kMaxInputs];
  bool scalar[fused::kMaxInputs];
  for (int k = 0; k < n_in; ++k) {
    held[k] = in[k].is_contiguous() ? in[k] : in[k].contiguous();
    src[k] = static_cast<const float*>(held[k].raw_data());
    scalar[k] = held[k].numel() == 1 && n != 1;
  }
  float* dst = static_cast<float*>(out[0].raw_data());
  cpu::parallel_for(0, n, cpu::kGrainSize, [&](int64_t s, int64_t e) {
    alignas(64) float regs[fused::kMaxInstructions][kTile];
    alignas(64) float splat[fused::kMaxInputs][kTile];
    for (int k = 0; k < n_in; ++k)
      if (scalar[k]) std::fill(splat[k], splat[k] + kTile, src[k][0]);
    for (int64_t t0 = s; t0 < e; t0 += kTile) {
      const int64_t m = std::min(kTile, e - t0);
      auto reg = [&](int r) -> const float* {
        if (r >= n_in) return regs[r - n_in];
        return scalar[r] ? splat[r] : src[r] + t0;
      };
      for (int k = 0; k < n_instr; ++k) {
        const fused::Instruction& ins = program[k];
        // The last instruction writes the output directly. An output sharing an input's buffer
        // (in-place reuse) is safe: element i is read before it is written, tile by tile.
        float* y = k + 1 == n_instr ? dst + t0 : regs[k];
        run_instruction(ins, reg(ins.a), reg(ins.b), y, m);
      }
    }
  });
}

}  // namespace

void register_fused_elementwise() {
  OpDef& d = define_op(OpId::fused_elementwise);
  d.infer = fused_infer;
  d.kernels[kCpu] = fused_kernel;
}

}  // namespace nabla::ops
