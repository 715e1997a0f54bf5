// Batched slerp, easing curves, the thread pool, and writing decoded frames.
#include "vae/slerp.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "vae/backend.h"
#include "vae/model.h"
#include "vae/pixels.h"
#include "vae/thread_pool.h"
#include "vae_test_support.h"

namespace dw::vae {
namespace {

HostTensor latent(int c, int h, int w, float base, float step) {
  HostTensor t(1, c, h, w);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data[i] = base + step * std::sin(static_cast<float>(i) * 0.7f + base);
  return t;
}

double norm(const float* p, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(p[i]) * p[i];
  return std::sqrt(s);
}

double channel_mean(const HostTensor& t, int item, int c) {
  const float* p = t.at(item, c);
  return std::accumulate(p, p + t.plane(), 0.0) / static_cast<double>(t.plane());
}

TEST(Slerp, EndpointsAreTheInputs) {
  const HostTensor a = latent(4, 3, 5, 0.1f, 1.0f), b = latent(4, 3, 5, -0.4f, 2.0f);
  const float ts[] = {0.0f, 1.0f};
  for (bool center : {false, true}) {
    const HostTensor out = slerp_host(a, b, ts, SlerpOptions{center, 1e-4f});
    for (std::size_t i = 0; i < a.item(); ++i) {
      EXPECT_NEAR(out.data[i], a.data[i], 1e-5f);
      EXPECT_NEAR(out.data[a.item() + i], b.data[i], 1e-5f);
    }
  }
}

TEST(Slerp, NormIsInterpolatedLinearlyAndAngleEvenly) {
  // Orthogonal a and b of different norms, no centering: the classic slerp case.
  HostTensor a(1, 1, 1, 2), b(1, 1, 1, 2);
  a.data = {2.0f, 0.0f};
  b.data = {0.0f, 4.0f};
  const float ts[] = {0.25f, 0.5f};
  const HostTensor out = slerp_host(a, b, ts, SlerpOptions{false, 1e-4f});
  for (int k = 0; k < 2; ++k) {
    const float* p = out.at(k, 0);
    EXPECT_NEAR(norm(p, 2), 2.0 + ts[k] * 2.0, 1e-5);
    EXPECT_NEAR(std::atan2(p[1], p[0]), ts[k] * M_PI / 2, 1e-5);
  }
}

TEST(Slerp, ParallelLatentsFallBackToLerpWithoutNaN) {
  HostTensor a = latent(2, 4, 4, 0.3f, 1.0f);
  HostTensor b = a;
  for (float& v : b.data) v *= 2.0f;  // same direction: sin(omega) = 0
  const float ts[] = {0.5f};
  const HostTensor out = slerp_host(a, b, ts, SlerpOptions{false, 1e-4f});
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(out.data[i], 1.5f * a.data[i], 1e-5f);
  // A constant latent has nothing left after centering: still finite, still the lerp of means.
  HostTensor flat_a(1, 1, 2, 2), flat_b(1, 1, 2, 2);
  std::fill(flat_a.data.begin(), flat_a.data.end(), 1.0f);
  std::fill(flat_b.data.begin(), flat_b.data.end(), 3.0f);
  const HostTensor flat = slerp_host(flat_a, flat_b, ts, SlerpOptions{true, 1e-4f});
  for (float v : flat.data) EXPECT_FLOAT_EQ(v, 2.0f);
}

TEST(Slerp, MeanCenteringRestoresTheInterpolatedChannelMeans) {
  HostTensor a = latent(4, 8, 8, 0.0f, 1.0f), b = latent(4, 8, 8, 1.0f, 1.0f);
  for (int c = 0; c < 4; ++c) {
    for (std::size_t i = 0; i < a.plane(); ++i) {
      a.at(0, c)[i] += 3.0f * static_cast<float>(c);  // strong per-channel offsets
      b.at(0, c)[i] -= 2.0f;
    }
  }
  const float ts[] = {0.3f, 0.5f, 0.8f};
  const HostTensor out = slerp_host(a, b, ts, SlerpOptions{true, 1e-4f});
  for (int k = 0; k < 3; ++k)
    for (int c = 0; c < 4; ++c)
      EXPECT_NEAR(channel_mean(out, k, c),
                  (1 - ts[k]) * channel_mean(a, 0, c) + ts[k] * channel_mean(b, 0, c), 1e-4);
}

TEST(Slerp, MismatchedShapesAreRefused) {
  const float ts[] = {0.5f};
  EXPECT_THROW(slerp_host(HostTensor(1, 4, 8, 8), HostTensor(1, 4, 8, 4), ts, {}), Error);
  EXPECT_THROW(slerp_host(HostTensor(2, 4, 8, 8), HostTensor(2, 4, 8, 8), ts, {}), Error);
}

TEST(Easing, CurvesStartEndAndStaySymmetric) {
  for (Easing e : {Easing::Linear, Easing::Smoothstep, Easing::Cosine}) {
    float previous = 0.0f;
    for (int i = 1; i <= 9; ++i) {
      const float t = eased_t(i, 9, e);
      EXPECT_GT(t, previous);
      EXPECT_LT(t, 1.0f);
      EXPECT_NEAR(t + eased_t(10 - i, 9, e), 1.0f, 1e-6f);  // symmetric around the middle
      previous = t;
    }
    EXPECT_NEAR(eased_t(5, 9, e), 0.5f, 1e-6f);
  }
  EXPECT_FLOAT_EQ(eased_t(1, 3, Easing::Linear), 0.25f);
  EXPECT_FLOAT_EQ(eased_t(1, 3, Easing::Smoothstep), 0.25f * 0.25f * 2.5f);
  EXPECT_NEAR(eased_t(1, 3, Easing::Cosine), 0.5f - 0.5f * std::cos(M_PI / 4), 1e-6f);
  // Slow at the keyframes: the first step of an eased curve is smaller than linear's.
  EXPECT_LT(eased_t(1, 9, Easing::Smoothstep), eased_t(1, 9, Easing::Linear));
}

TEST(ThreadPoolTest, RunsEveryTaskOnceAndRethrowsTheFirstError) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.size(), 3);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::atomic<int>> hits(97);
    pool.parallel_for(hits.size(), [&](std::size_t i, int worker) {
      ASSERT_GE(worker, 0);
      ASSERT_LT(worker, 3);
      hits[i].fetch_add(1);
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  EXPECT_THROW(pool.parallel_for(10,
                                 [](std::size_t i, int) {
                                   if (i == 4) throw Error("task 4 failed");
                                 }),
               Error);
  std::atomic<int> after{0};  // the pool still works after an error
  pool.parallel_for(8, [&](std::size_t, int) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 8);
}

TEST(Frames, InterpolatedFramesAreDecodedIntoReusedHostBuffers) {
  const auto model = load_vae((test::fixtures_dir() / "tae4_decoder.safetensors").string());
  auto backend = make_cpu_backend(model, 2);
  const HostTensor a = latent(4, 4, 6, 0.2f, 1.0f), b = latent(4, 4, 6, -0.5f, 1.5f);
  const float ts[] = {0.0f, 0.5f, 1.0f};
  std::vector<Frame> frames(3);
  std::vector<Frame*> slots = {&frames[0], &frames[1], &frames[2]};
  backend->interpolate_to_frames(a, b, ts, SlerpOptions{}, slots);
  const std::uint8_t* buffer = frames[1].host_rgba.data();
  for (const Frame& f : frames) {
    EXPECT_EQ(f.width, 48);
    EXPECT_EQ(f.height, 32);
    EXPECT_EQ(f.location, PixelLocation::Host);
    ASSERT_EQ(f.host_rgba.size(), 48u * 32u * 4u);
  }
  // Frame 0 is the decode of a, converted to 8 bits.
  const HostTensor decoded_a = backend->decode(a);
  for (std::size_t i = 0; i < decoded_a.plane(); ++i) {
    EXPECT_EQ(frames[0].host_rgba[4 * i + 1], unit_to_byte(decoded_a.at(0, 1)[i]));
    EXPECT_EQ(frames[0].host_rgba[4 * i + 3], 255);
  }
  backend->interpolate_to_frames(b, a, ts, SlerpOptions{}, slots);
  EXPECT_EQ(frames[1].host_rgba.data(), buffer);  // warm slots are not reallocated
  EXPECT_THROW(backend->interpolate_to_frames(a, b, ts, SlerpOptions{},
                                              std::span<Frame* const>(slots.data(), 2)),
               Error);
}

TEST(Frames, ByteConversionRoundsAndClamps) {
  EXPECT_EQ(unit_to_byte(0.0f), 0);
  EXPECT_EQ(unit_to_byte(1.0f), 255);
  EXPECT_EQ(unit_to_byte(0.5f), 128);
  EXPECT_EQ(unit_to_byte(-3.0f), 0);
  EXPECT_EQ(unit_to_byte(7.0f), 255);
  EXPECT_EQ(unit_to_byte(std::nanf("")), 0);
}

}  // namespace
}  // namespace dw::vae
