// Cost of moving one frame slot through the ring, producer and consumer on two threads.
#include <benchmark/benchmark.h>

#include <thread>

#include "core/frame.h"
#include "core/frame_ring.h"

static void BM_FrameRingHandOff(benchmark::State& state) {
  dw::FrameRing<dw::FrameInfo> ring(static_cast<std::size_t>(state.range(0)));
  std::atomic<bool> done{false};
  std::jthread consumer([&] {
    std::uint64_t last = 0;
    while (!done.load(std::memory_order_relaxed)) {
      if (dw::FrameInfo* f = ring.peek()) {
        last = f->sequence;
        ring.pop();
      }
    }
    benchmark::DoNotOptimize(last);
  });
  std::uint64_t seq = 0;
  for (auto _ : state) {
    dw::FrameInfo* slot;
    while ((slot = ring.begin_write()) == nullptr) {
    }
    slot->sequence = ++seq;
    ring.commit_write();
  }
  done = true;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameRingHandOff)->Arg(8)->Arg(256)->UseRealTime();

BENCHMARK_MAIN();
