// The asan build's exit-time leak check against dynamic TLS (see cmake/asan_default_options.cpp).
// Each case runs this executable again as a child in one mode and looks at how the child ended:
// LeakSanitizer only runs at exit, so only a separate process can show what it does there.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.h"

#if !defined(__SANITIZE_ADDRESS__)
#error "asan_dynamic_tls_test is only built with DW_SANITIZE=address"
#endif

extern char** environ;

namespace {

struct Probe {
  std::size_t (*size)();
  void* (*block)();
  void (*hold_new)(std::size_t);
};

Probe load_probe() {
  void* lib = dlopen(DW_TLS_PROBE_MODULE, RTLD_NOW);
  if (!lib) {
    std::fprintf(stderr, "cannot load %s: %s\n", DW_TLS_PROBE_MODULE, dlerror());
    std::exit(3);
  }
  return {reinterpret_cast<std::size_t (*)()>(dlsym(lib, "dw_tls_probe_size")),
          reinterpret_cast<void* (*)()>(dlsym(lib, "dw_tls_probe_block")),
          reinterpret_cast<void (*)(std::size_t)>(dlsym(lib, "dw_tls_probe_hold_new"))};
}

// Makes glibc's malloc for the probe's TLS block return a chunk that starts 16 bytes past a page
// boundary, the layout that the sanitizer runtime's glibc-2.19 guess misreads. With the quarantine
// off (the parent sets it) ASan hands a freed chunk to the next malloc of its size class.
int child_block_at_page_offset_16() {
  const Probe probe = load_probe();
  std::vector<void*> kept;
  void* chosen = nullptr;
  for (int i = 0; i < 1000000 && !chosen; ++i) {
    void* p = std::malloc(probe.size());
    if (reinterpret_cast<std::uintptr_t>(p) % 4096 == 16)
      chosen = p;
    else
      kept.push_back(p);
  }
  std::free(chosen);
  const void* block = probe.block();
  std::printf("block at page offset %zu\n", reinterpret_cast<std::uintptr_t>(block) % 4096);
  for (void* p : kept) std::free(p);
  return 0;
}

int child_holds_in_dynamic_tls() {
  load_probe().hold_new(100);
  return 0;
}

void* volatile g_sink = nullptr;

__attribute__((noinline)) void lose_a_block() {
  g_sink = std::malloc(77);
  g_sink = nullptr;
}

int child_leaks() {
  lose_a_block();
  return 0;
}

struct ChildResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string output;
};

ChildResult run_child(const std::string& mode) {
  dw::test::ScratchDir dir;
  const std::string log = dir / "child.log";
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  asan += ":detect_leaks=1:abort_on_error=0:quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
  std::vector<std::string> env_strings{"ASAN_OPTIONS=" + asan};
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "ASAN_OPTIONS=", 13) != 0) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::string exe = "/proc/self/exe", arg = "--child=" + mode;
  char* argv[] = {exe.data(), arg.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ChildResult result;
  if (rc != 0) {
    result.output = "posix_spawn failed: " + std::string(std::strerror(rc));
    return result;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  result.output = text.str();
  return result;
}

TEST(AsanDynamicTls, ExitLeakCheckSurvivesATlsBlockAtPageOffset16) {
  const ChildResult r = run_child("block-at-page-offset-16");
  ASSERT_NE(r.output.find("block at page offset 16"), std::string::npos)
      << "the child did not place the TLS block where the runtime misreads it, so this test "
         "proves nothing:\n"
      << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("LeakSanitizer has encountered a fatal error"), std::string::npos)
      << r.output;
}

TEST(AsanDynamicTls, MemoryHeldOnlyInDynamicTlsIsNotALeak) {
  const ChildResult r = run_child("holds-in-dynamic-tls");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("detected memory leaks"), std::string::npos) << r.output;
}

TEST(AsanDynamicTls, ARealLeakIsStillReported) {
  const ChildResult r = run_child("leak");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("detected memory leaks"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("77 byte(s)"), std::string::npos) << r.output;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strncmp(argv[1], "--child=", 8) == 0) {
    const std::string mode = argv[1] + 8;
    if (mode == "block-at-page-offset-16") return child_block_at_page_offset_16();
    if (mode == "holds-in-dynamic-tls") return child_holds_in_dynamic_tls();
    if (mode == "leak") return child_leaks();
    std::fprintf(stderr, "unknown child mode '%s'\n", mode.c_str());
    return 2;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
