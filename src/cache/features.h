// Image features for the "dual metric" of BEHAVIOUR.md: a 96-bin HSV histogram (colour) and a
// 64-bit DCT perceptual hash (structure), plus per-channel latent statistics when a latent exists,
// and the picture measures (picture_measures.h) the degeneration detector and the cache's gate use.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "cache/picture_measures.h"
#include "core/image.h"

namespace dw::cache {

inline constexpr int kHsvBins = 32;  // per channel; H, S and V each normalised to sum 1

struct ImageFeatures {
  std::array<float, 3 * kHsvBins> hsv{};  // [H bins | S bins | V bins]
  std::uint64_t phash = 0;
  PictureMeasures measures;
  std::vector<float> latent_stats;  // [mean_0, std_0, mean_1, std_1, ...] or empty
};

struct Similarity {
  double colour = 0;     // histogram intersection summed over H, S, V: 0..3 (3 = identical)
  double structure = 0;  // 1 - Hamming(phash)/64: 0..1 (1 = identical)
};

ImageFeatures compute_features(const Image& image);
// Adds mean and standard deviation per channel of a latent laid out [C, h*w].
void add_latent_stats(ImageFeatures& features, std::span<const float> latent, int channels);

Similarity similarity(const ImageFeatures& a, const ImageFeatures& b);
double colour_similarity(const ImageFeatures& a, const ImageFeatures& b);
double structure_similarity(std::uint64_t a, std::uint64_t b);
// 1 / (1 + RMS difference) of the latent statistics; 0 when either has none.
double latent_similarity(const ImageFeatures& a, const ImageFeatures& b);

// The pieces, exposed for tests: the 64-bit pHash of an image (luma, 32x32 box-filtered, 2-D
// DCT-II, the 8x8 lowest frequencies compared against their median).
std::uint64_t perceptual_hash(const Image& image);

}  // namespace dw::cache
