#include "ops/registry.h"

namespace nabla::ops {
namespace {

OpDef* build_table() {
  static OpDef table[kNumOps];
  static const char* names[] = {
#define NABLA_OP(name, family) #name,
#include "ops/op_list.def"
#undef NABLA_OP
  };
  for (int i = 0; i < kNumOps; ++i) table[i].name = names[i];
  return table;
}

OpDef* table() {
  static OpDef* t = build_table();
  return t;
}

// Families fill their entries (through define_op) on first use of the registry. Explicit calls,
// not static initialisers in each family, so that linking nabla statically drops nothing.
bool register_all() {
  register_movement_ops();
  register_elementwise_ops();
  register_reduce_ops();
  register_index_ops();
  register_linalg_ops();
  register_conv_ops();
  register_optim_ops();
  register_random_ops();
  return true;
}

}  // namespace

OpDef& define_op(OpId id) { return table()[static_cast<int>(id)]; }

OpDef& op_def(OpId id) {
  static const bool registered = register_all();
  (void)registered;
  return table()[static_cast<int>(id)];
}

const char* op_name(OpId id) { return table()[static_cast<int>(id)].name; }

}  // namespace nabla::ops
