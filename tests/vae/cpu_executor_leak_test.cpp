// The CPU runner's buffer pool after a run that throws part way (std::bad_alloc at one of the
// pool's own allocations): the buffers the run held go back to the pool, so the next runs reuse
// them instead of allocating beside them for good. This binary replaces the global array
// operator new with one that can be told to fail (the pool's buffers are arrays; on this thread
// only, so the thread pool's workers are untouched).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "vae/cpu_executor.h"
#include "vae/model.h"
#include "vae_test_support.h"

namespace {
// Array allocations on this thread until one fails (0: none fails).
thread_local int g_fail_in = 0;
thread_local int g_array_news = 0;
}  // namespace

void* operator new[](std::size_t bytes) {
  ++g_array_news;
  if (g_fail_in > 0 && --g_fail_in == 0) throw std::bad_alloc();
  if (void* p = std::malloc(bytes == 0 ? 1 : bytes)) return p;
  throw std::bad_alloc();
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace dw::vae {
namespace {

TEST(CpuGraphRunner, AnAllocationFailureMidGraphLeavesNoBufferHeld) {
  const auto dir = test::fixtures_dir();
  const auto model = load_vae((dir / "tae4_decoder.safetensors").string(),
                              (dir / "tae4_encoder.safetensors").string());
  ASSERT_TRUE(model->decoder);
  const auto io = SafetensorsFile::open((dir / "tae4_io.safetensors").string());
  const HostTensor latent = test::read_tensor(io, "decode_in");
  ThreadPool pool(2);

  CpuGraphRunner clean(pool);
  g_array_news = 0;
  const HostTensor expected = clean.run(*model->decoder, latent);
  const int cold_news = g_array_news;
  clean.run(*model->decoder, latent);
  const std::size_t clean_bytes = clean.pooled_bytes();
  ASSERT_GT(cold_news, 2) << "a cold run allocates its pool's buffers";

  CpuGraphRunner runner(pool);
  g_fail_in = cold_news / 2 + 1;  // half way through the graph, with buffers held
  EXPECT_THROW(runner.run(*model->decoder, latent), std::bad_alloc);
  ASSERT_EQ(g_fail_in, 0) << "the failure was not reached";
  runner.run(*model->decoder, latent);
  const HostTensor again = runner.run(*model->decoder, latent);
  EXPECT_EQ(runner.pooled_bytes(), clean_bytes);
  EXPECT_EQ(again.data, expected.data);
}

}  // namespace
}  // namespace dw::vae
