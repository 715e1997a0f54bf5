// The ring under contention: a producer and a consumer thread move millions of frames through a
// small ring. Order is kept, nothing is lost or duplicated, and each slot's payload (written before
// commit) is complete when read (checked by a checksum). Runs under ThreadSanitizer (tsan preset).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <thread>

#include "core/frame_ring.h"

namespace dw {
namespace {

struct Payload {
  std::uint64_t sequence = 0;
  std::array<std::uint64_t, 6> words{};
  std::uint64_t checksum = 0;
};

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

void run_stress(std::size_t capacity, std::uint64_t count, bool producer_waits,
                bool consumer_waits) {
  FrameRing<Payload> ring(capacity);
  std::uint64_t received = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t torn = 0;
  std::jthread consumer([&](std::stop_token) {
    std::uint64_t expected = 0;
    while (expected < count) {
      Payload* p = ring.peek();
      if (p == nullptr) {
        // Spinning sides yield: on a busy 2-core machine a pure spin can starve its partner.
        if (consumer_waits)
          ring.wait_for_data(std::stop_token{}, std::chrono::milliseconds(50));
        else
          std::this_thread::yield();
        continue;
      }
      if (p->sequence != expected) ++out_of_order;
      std::uint64_t sum = mix(p->sequence);
      for (std::uint64_t w : p->words) sum ^= w;
      if (sum != p->checksum) ++torn;
      ++expected;
      ++received;
      ring.pop();
    }
  });
  for (std::uint64_t i = 0; i < count;) {
    Payload* p = ring.begin_write();
    if (p == nullptr) {
      if (producer_waits)
        ring.wait_for_space(std::stop_token{}, std::chrono::milliseconds(50));
      else
        std::this_thread::yield();
      continue;
    }
    p->sequence = i;
    std::uint64_t sum = mix(i);
    for (std::size_t k = 0; k < p->words.size(); ++k) {
      p->words[k] = mix(i * 7 + k);
      sum ^= p->words[k];
    }
    p->checksum = sum;
    ring.commit_write();
    ++i;
  }
  consumer.join();
  EXPECT_EQ(received, count);
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_EQ(torn, 0u);
  EXPECT_EQ(ring.size(), 0u);
}

#if defined(__SANITIZE_THREAD__)
constexpr std::uint64_t kFrames = 200'000;  // TSan is ~10x slower; still hundreds of thousands
#else
constexpr std::uint64_t kFrames = 2'000'000;
#endif

TEST(FrameRingStress, SpinningProducerAndConsumerDropNothing) {
  run_stress(8, kFrames, false, false);
}

TEST(FrameRingStress, WaitingProducerAndConsumerDropNothing) {
  run_stress(4, kFrames / 4, true, true);
}

TEST(FrameRingStress, BatchProducerDropsNothing) {
  // The decoder's path: reserve several slots, fill them in place, publish them at once.
  constexpr std::size_t kCapacity = 8;
  FrameRing<Payload> ring(kCapacity);
  const std::uint64_t count = kFrames / 4;
  std::uint64_t received = 0, bad = 0;
  std::atomic<bool> abandoned{false};
  std::jthread consumer([&] {
    for (std::uint64_t expected = 0; expected < count && !abandoned.load();) {
      Payload* p = ring.peek();
      if (p == nullptr) {
        std::this_thread::yield();
        continue;
      }
      bad += p->sequence != expected || p->checksum != mix(p->sequence);
      ++expected;
      ++received;
      ring.pop();
    }
  });
  std::uint64_t next = 0;
  while (next < count) {
    const std::size_t batch = std::min<std::uint64_t>(1 + next % 5, count - next);
    // A slot written without space would overwrite one not yet read: wait, and on a consumer
    // that no longer drains fail cleanly instead.
    if (!ring.wait_for_space(std::stop_token{}, std::chrono::seconds(60), batch)) {
      ADD_FAILURE() << "no space for " << batch << " frames within 60 s, at frame " << next;
      abandoned = true;
      break;
    }
    for (std::size_t i = 0; i < batch; ++i) {
      Payload* p = ring.writable(i);
      p->sequence = next + i;
      p->checksum = mix(next + i);
    }
    ring.commit_write(batch);
    next += batch;
  }
  consumer.join();
  EXPECT_EQ(received, count);
  EXPECT_EQ(bad, 0u);
}

TEST(FrameRingStress, TinyRingUnderContentionKeepsOrder) {
  run_stress(2, kFrames / 2, true, false);
}

}  // namespace
}  // namespace dw

namespace dw {
namespace {

// A third thread (status, the orchestrator) reads size() while frames stream through a tiny ring:
// it must never see more than the capacity. Loading tail before head let it see head > tail and
// report about 1.8e19 frames.
TEST(FrameRingStress, AnObserverNeverSeesMoreThanTheCapacity) {
  constexpr std::uint64_t kCount = 200'000;
  FrameRing<std::uint64_t> ring(4);
  std::atomic<bool> done{false};
  std::size_t largest = 0;
  std::uint64_t observations = 0;
  std::jthread observer([&] {
    while (!done.load(std::memory_order_relaxed)) {
      largest = std::max(largest, ring.size());
      ++observations;
    }
  });
  std::jthread consumer([&] {
    for (std::uint64_t got = 0; got < kCount;) {
      if (ring.peek() == nullptr) {
        std::this_thread::yield();
        continue;
      }
      ring.pop();
      ++got;
    }
  });
  for (std::uint64_t sent = 0; sent < kCount;) {
    std::uint64_t* slot = ring.begin_write();
    if (slot == nullptr) {
      std::this_thread::yield();
      continue;
    }
    *slot = sent++;
    ring.commit_write();
  }
  consumer.join();
  done = true;
  observer.join();
  EXPECT_GT(observations, 0u);
  EXPECT_LE(largest, ring.capacity());
}

}  // namespace
}  // namespace dw
