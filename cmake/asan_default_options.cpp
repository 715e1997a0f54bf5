// Default AddressSanitizer/LeakSanitizer options compiled into every executable of a build with
// DW_SANITIZE=address (top-level CMakeLists.txt links this object into each target), so a test run
// by hand behaves like one run by scripts/test.sh. ASAN_OPTIONS in the environment still wins.
//
// intercept_tls_get_addr=0: the __tls_get_addr interceptor of the sanitizer runtime in GCC <= 13
// and LLVM <= 16 guesses the bounds of each dynamic TLS block. When a block that glibc (>= 2.25)
// allocated with malloc happens to start 16 bytes past a page boundary, it takes the two words
// before the block (ASan's own chunk header) for a glibc 2.19 header {start, size} and records a
// garbage range. At exit LeakSanitizer's stop-the-world tracer scans that range and dies with
// "Tracer caught signal 11 ... LeakSanitizer has encountered a fatal error"
// (google/sanitizers#1322). Mesa's llvmpipe loads libLLVM, whose thread_local variables are
// dynamic TLS, so the GL tests hit this whenever earlier allocations (paths, environment) shift a
// block onto that offset: the crash depended on the length of the clone's folder path. Without the
// interceptor dynamic TLS blocks are ordinary heap chunks reachable through the thread's DTV, so
// pointers held there are still found and real leaks are still reported
// (tests/unit/asan_dynamic_tls_test.cpp checks both).
extern "C" __attribute__((used, visibility("default"))) const char* __asan_default_options() {
  return "intercept_tls_get_addr=0";
}
