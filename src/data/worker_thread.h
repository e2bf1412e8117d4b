// Internal: what every data-loading background thread sets up before running
// user code.
#pragma once
#include <omp.h>
#include <xmmintrin.h>

#include <exception>
#include <string>

#include "backend/cpu/parallel.h"
#include "nabla/autograd.h"
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
