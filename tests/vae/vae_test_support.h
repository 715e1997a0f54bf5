// Helpers shared by the VAE tests: fixture paths, fixture tensors, error measures.
#pragma once

#include <cmath>
#include <filesystem>
#include <string>

#include "core/image.h"
#include "support/test_support.h"
#include "vae/safetensors.h"
#include "vae/tensor.h"

namespace dw::vae::test {

inline std::filesystem::path fixtures_dir() {
  return dw::test::source_dir() / "tests" / "fixtures" / "vae";
}

// A tensor saved by tools/make_vae_fixtures.py: 4-d, any float dtype.
inline HostTensor read_tensor(const SafetensorsFile& file, const std::string& name) {
  const Weight w = file.read_f32(name);
  if (w.shape.size() != 4) throw std::runtime_error("fixture tensor " + name + " is not 4-d");
  HostTensor t(static_cast<int>(w.shape[0]), static_cast<int>(w.shape[1]),
               static_cast<int>(w.shape[2]), static_cast<int>(w.shape[3]));
  t.data = w.data;
  return t;
}

// ||a - b|| / ||b||, or +inf when the shapes differ.
inline double relative_error(const HostTensor& a, const HostTensor& reference) {
  if (a.n != reference.n || a.c != reference.c || a.h != reference.h || a.w != reference.w)
    return INFINITY;
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a.data[i]) - reference.data[i];
    diff += d * d;
    norm += static_cast<double>(reference.data[i]) * reference.data[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

// PSNR in dB of two [0, 1] image tensors.
inline double psnr(const HostTensor& a, const HostTensor& b) {
  double mse = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a.data[i]) - b.data[i];
    mse += d * d;
  }
  mse /= static_cast<double>(a.size());
  return 10.0 * std::log10(1.0 / std::max(mse, 1e-12));
}

inline HostTensor image_to_tensor(const Image& image) {
  HostTensor t(1, 3, image.height, image.width);
  const std::size_t plane = t.plane();
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) t.data[c * plane + i] = image.rgba[i * 4 + c] / 255.0f;
  return t;
}

}  // namespace dw::vae::test
