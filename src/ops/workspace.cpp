// Per-thread kernel workspace regions (see workspace.h).
#include "ops/workspace.h"

namespace nabla::ops::ws {

namespace {
thread_local Region t_region;
}

Region& current() { return t_region; }

size_t take_high() {
  size_t h = t_region.high;
  t_region.high = t_region.top;
  return h;
}

Lend::Lend(char* base, size_t cap) : saved_(t_region) {
  t_region.base = base;
  t_region.cap = cap;
  t_region.top = 0;
  t_region.high = 0;
}

Lend::~Lend() { t_region = saved_; }

}  // namespace nabla::ops::ws
