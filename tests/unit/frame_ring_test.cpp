#include "core/frame_ring.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/frame.h"
#include "support/test_support.h"

namespace dw {
namespace {

TEST(FrameRing, RejectsCapacityThatIsNotAPowerOfTwo) {
  EXPECT_THROW(FrameRing<int>(3), Error);
  EXPECT_THROW(FrameRing<int>(0), Error);
  EXPECT_NO_THROW(FrameRing<int>(4));
}

TEST(FrameRing, FullRingRefusesWritesUntilAPop) {
  FrameRing<int> ring(4);
  for (int i = 0; i < 4; ++i) {
    int* slot = ring.begin_write();
    ASSERT_NE(slot, nullptr);
    *slot = i;
    ring.commit_write();
  }
  EXPECT_EQ(ring.begin_write(), nullptr);
  EXPECT_EQ(ring.size(), 4u);
  ASSERT_NE(ring.peek(), nullptr);
  EXPECT_EQ(*ring.peek(), 0);
  ring.pop();
  EXPECT_NE(ring.begin_write(), nullptr);
}

TEST(FrameRing, PeekLooksAheadWithoutConsuming) {
  FrameRing<int> ring(8);
  for (int i = 0; i < 3; ++i) {
    *ring.begin_write() = 10 + i;
    ring.commit_write();
  }
  ASSERT_NE(ring.peek(2), nullptr);
  EXPECT_EQ(*ring.peek(2), 12);
  EXPECT_EQ(ring.peek(3), nullptr);
  EXPECT_EQ(*ring.peek(0), 10);
  EXPECT_EQ(ring.size(), 3u);
}

TEST(FrameRing, SlotsAreReusedNotReallocated) {
  // A frame's pixel buffer keeps its allocation when its slot comes round again.
  FrameRing<Frame> ring(2);
  Frame* first = ring.begin_write();
  first->resize_host(64, 32);
  const std::uint8_t* pixels = first->host_rgba.data();
  ring.commit_write();
  ring.pop();
  ring.begin_write()->resize_host(64, 32);
  ring.commit_write();
  ring.pop();
  Frame* again = ring.begin_write();
  EXPECT_EQ(again, first);
  // The slot comes back as it was left: the ring neither resets nor replaces a slot's buffer.
  EXPECT_EQ(again->host_rgba.data(), pixels);
  EXPECT_EQ(again->width, 64);
  EXPECT_GE(again->host_rgba.capacity(), 64u * 32 * 4);
  again->resize_host(64, 32);  // the same size again: the producer's usual case
  EXPECT_EQ(again->host_rgba.data(), pixels);
}

TEST(FrameRing, WaitForSpaceReturnsOnStopRequest) {
  FrameRing<int> ring(2);
  for (int i = 0; i < 2; ++i) {
    ring.begin_write();
    ring.commit_write();
  }
  std::stop_source stop;
  std::atomic<bool> returned{false};
  std::atomic<bool> result{true};
  std::jthread producer([&] {
    result = ring.wait_for_space(stop.get_token(), std::chrono::minutes(5));
    returned = true;
  });
  stop.request_stop();
  EXPECT_TRUE(test::wait_until([&] { return returned.load(); }, std::chrono::seconds(5)));
  EXPECT_FALSE(result.load());
}

TEST(FrameRing, WaitForDataWakesWhenTheProducerCommits) {
  FrameRing<int> ring(4);
  std::atomic<bool> got{false};
  std::jthread consumer(
      [&] { got = ring.wait_for_data(std::stop_token{}, std::chrono::seconds(20)); });
  *ring.begin_write() = 7;
  ring.commit_write();
  EXPECT_TRUE(test::wait_until([&] { return got.load(); }, std::chrono::seconds(10)));
}

TEST(FrameRing, WaitHonoursItsTimeout) {
  FrameRing<int> ring(4);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(ring.wait_for_data(std::stop_token{}, std::chrono::milliseconds(30)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
}

}  // namespace
}  // namespace dw

namespace dw {
namespace {

TEST(FrameRing, BatchWritesArePublishedTogetherInOrder) {
  FrameRing<int> ring(8);
  ASSERT_EQ(ring.free_slots(), 8u);
  for (std::size_t i = 0; i < 5; ++i) *ring.writable(i) = static_cast<int>(100 + i);
  EXPECT_EQ(ring.peek(), nullptr) << "nothing is visible before the commit";
  ring.commit_write(5);
  EXPECT_EQ(ring.free_slots(), 3u);
  for (int i = 0; i < 5; ++i) {
    ASSERT_NE(ring.peek(), nullptr);
    EXPECT_EQ(*ring.peek(), 100 + i);
    ring.pop();
  }
  EXPECT_TRUE(ring.wait_for_space(std::stop_token{}, std::chrono::milliseconds(1), 8));
}

}  // namespace
}  // namespace dw
