// Shared by the benchmarks: which BLAS each side loaded, and thread settings for both sides.
#pragma once
#include <dlfcn.h>
#include <omp.h>
#include <torch/torch.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "nabla/runtime.h"

extern "C" {
char* openblas_get_config();
char* openblas_get_corename();
void openblas_set_num_threads(int);
}

namespace bench {

/// The shared object that provides `symbol` in the global scope (what a PLT call resolves to).
inline std::string library_of(const char* symbol) {
  void* p = dlsym(RTLD_DEFAULT, symbol);
  Dl_info info{};
  if (!p || !dladdr(p, &info) || !info.dli_fname) return "(not found)";
  return info.dli_fname;
}

/// Prints the BLAS behind nabla (OpenBLAS, linked directly) and behind libtorch (its sgemm_ import
/// goes through libblas.so.3, Debian's alternatives link), plus libtorch's own build summary.
inline void print_blas_info() {
  std::printf("nabla BLAS  : %s, core %s, cblas_sgemm from %s\n", openblas_get_config(), openblas_get_corename(),
              library_of("cblas_sgemm").c_str());
  std::printf("torch BLAS  : sgemm_ from %s\n", library_of("sgemm_").c_str());
  // show_config() is long: keep the BLAS/LAPACK/oneDNN/OpenMP facts and the SIMD level.
  std::istringstream cfg(torch::show_config());
  std::string keep;
  for (std::string line; std::getline(cfg, line);) {
    if (line.find("CPU capability") != std::string::npos || line.find("OpenMP") != std::string::npos)
      keep += " |" + line.substr(line.find_first_not_of(" -"));
    std::istringstream items(line);
    for (std::string item; std::getline(items, item, ',');) {
      for (const char* key : {" BLAS_INFO=", "LAPACK_INFO=", "USE_MKLDNN=", "USE_OPENMP=", "TORCH_VERSION="}) {
        size_t at = item.find(key);
        if (at != std::string::npos) keep += " | " + item.substr(item.find_first_not_of(' ', at));
      }
    }
  }
  std::printf("torch config:%s\n", keep.c_str());
  std::printf("threads     : benchmark argument /threads:N sets nabla::set_num_threads(N) or "
              "torch::set_num_threads(N) (both drive the one libgomp pool and OpenBLAS)\n");
  std::fflush(stdout);
}

inline void use_nabla_threads(int n) { nabla::set_num_threads(n); }
inline void use_torch_threads(int n) {
  torch::set_num_threads(n);
  openblas_set_num_threads(n);  // OpenBLAS-openmp follows omp_get_max_threads, but be explicit
}
inline void use_raw_threads(int n) {
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

}  // namespace bench

/// main() for every benchmark binary: print the BLAS information first.
#define NABLA_BENCH_MAIN()                                         \
  int main(int argc, char** argv) {                                \
    bench::print_blas_info();                                      \
    benchmark::Initialize(&argc, argv);                            \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    benchmark::RunSpecifiedBenchmarks();                           \
    benchmark::Shutdown();                                         \
    return 0;                                                      \
  }
