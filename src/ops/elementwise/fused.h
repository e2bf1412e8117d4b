// Internal: the program of a fused_elementwise node. The graph's fusion pass
// (graph/passes/fuse_elementwise.cpp) turns a chain of float32 elementwise ops into one node whose
// kernel (fused.cpp) walks memory once, tile by tile, running every op of the chain on the tile
// while it sits in L1, instead of one full pass over memory (and one buffer) per op.
//
// The program lives in the node's plain Attrs, so graph dumps and deployment bundles carry it
// like any other attribute: i[0] = number of instructions (1..15), i[1 + k] = instruction k packed
// as
//   bits  0..15  the op (an OpId of the elementwise family: add, mul, relu, sigmoid, ...)
//   bits 16..23  register of operand a
//   bits 24..31  register of operand b (binary ops)
//   bits 32..63  the op's float parameter as float32 bits (add/sub alpha, leaky_relu slope, elu
//                alpha; gelu: nonzero for the tanh form)
// Registers 0..n_inputs-1 are the node's inputs; register n_inputs + k is instruction k's result.
// The last instruction's result is the output. Every input is float32 and either has the output's
// shape or holds one element (a broadcast scalar).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ops/registry.h"

namespace nabla::ops::fused {

constexpr int kMaxInstructions = 15;
constexpr int kMaxInputs = 8;

struct Instruction {
  OpId op{};
  int a = 0, b = 0;
  float param = 0;
};

/// True for the ops a fused program can run; `binary` says how many operands they take.
bool supported(OpId op, bool* binary = nullptr);
/// The instruction for a node of `op` with `attrs` (its own attributes) on registers a, b; false
/// when those attributes have no fused form (e.g. add with an integer-only alpha).
bool to_instruction(OpId op, const Attrs& attrs, int a, int b, Instruction* out);
/// Packs a program into Attrs (at most kMaxInstructions instructions).
Attrs encode(const std::vector<Instruction>& program);
/// Unpacks and validates a program for a node with n_inputs inputs into out[kMaxInstructions] and
/// returns its length; throws nabla::Error naming what is wrong (bundles are untrusted input).
int decode(const Attrs& attrs, int n_inputs, Instruction* out);
/// Readable form for graph dumps: "$0 = mul(#0, #1); $1 = sigmoid($0)" (#k: input k, $k: the
/// result of instruction k; the last one is the output).
std::string describe(const Attrs& attrs, int n_inputs);

}  // namespace nabla::ops::fused
