// LeakSanitizer suppressions built into the test binary (LSan calls this hook at start-up when the
// binary is built with -fsanitize=address; otherwise it is never called).
//
// fontconfig, which cairo uses for the plot labels, keeps its configuration and pattern caches
// until exit and never frees some of them (no nabla pointer is involved), so the sanitizer build
// of the plot tests would otherwise report them as leaks.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
