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

// Families fill their entries on first use of the registry. Explicit calls (not static
// initialisers in each family) so that linking nabla as a static library drops nothing. The
// register functions call op_def themselves: the thread running them skips the once-guard
// (re-entering a function-local static's initialiser would throw recursive_init_error).
thread_local bool t_registering = false;

bool register_all() {
  t_registering = true;
  register_movement_ops();
  register_elementwise_ops();
  register_reduce_ops();
  register_index_ops();
  register_linalg_ops();
  register_conv_ops();
  t_registering = false;
  return true;
}

}  // namespace

OpDef& op_def(OpId id) {
  if (!t_registering) {
    static const bool registered = register_all();
    (void)registered;
  }
  return table()[static_cast<int>(id)];
}

const char* op_name(OpId id) { return table()[static_cast<int>(id)].name; }

}  // namespace nabla::ops
