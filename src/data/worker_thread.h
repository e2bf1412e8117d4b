// Internal: what every data-loading background thread sets up before running
// user code.
#pragma once
#include <omp.h>
#include <xmmintrin.h>

#include <cstdint>
#include <exception>
#include <string>

#include "backend/cpu/parallel.h"
#include "nabla/autograd.h"
#include "nabla/data/dataset.h"
#include "nabla/error.h"

namespace nabla::data::detail {

/// The creating thread's floating-point mode (FTZ/DAZ), to copy into workers so
/// that batches are bit-identical whatever thread computes them.
inline unsigned capture_fp_mode() { return _mm_getcsr(); }

/// Makes the calling thread a data worker: its ops run single-threaded (no
/// OpenMP team and no OpenBLAS threads per worker, so N workers use N cores),
/// without autograd recording, with the creator's floating-point mode.
inline void enter_worker_thread(unsigned fp_mode) {
  cpu::set_thread_local_num_threads(1);
  omp_set_num_threads(1);  // OpenBLAS-openmp sizes its team from this thread's ICV
  GradMode::set_enabled(false);
  _mm_setcsr(fp_mode);
}

/// Asks the CPU to move the cache lines of a batch a worker has just written out of the worker
/// core's private caches into the shared L3 (CLDEMOTE; a hint, executed as a no-op by CPUs
/// without it). The training thread then reads the batch from L3 instead of snooping it out of
/// another core's L2 line by line: measured on the Sapphire Rapids dev VM, reading a 100 KB batch
/// takes 6.2 us when another core wrote it, 3.1 us after CLDEMOTE, 1.6 us when the reader wrote
/// it (bench/cross_core_read.cpp); training with 1 worker on an idle machine went from +4-6% over
/// prebuilt batches to -6% (docs/data_loading.md).
inline void demote_to_shared_cache(const Example& batch) {
#if defined(__x86_64__)
  for (const Tensor* t : {&batch.data, &batch.target}) {
    if (!t->defined() || !t->device().is_cpu() || !t->is_contiguous() || t->nbytes() == 0) continue;
    const char* p = static_cast<const char*>(t->raw_data());
    const char* end = p + t->nbytes();
    for (p = reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t(63)); p < end; p += 64)
      asm volatile(".byte 0x0f, 0x1c, 0x07" ::"D"(p) : "memory");  // cldemote (%rdi)
  }
#else
  (void)batch;
#endif
}

/// Re-throws an exception caught in a worker, in the consumer, as nabla::Error prefixed with
/// `who` (the loader or pipeline stage), keeping the worker's message.
[[noreturn]] inline void rethrow_worker_error(const std::string& who, const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    throw Error(who + ": " + ex.what());
  } catch (...) {
    throw Error(who + ": unknown exception");
  }
}

}  // namespace nabla::data::detail
