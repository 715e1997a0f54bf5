// Helpers shared by the VAE tests: fixture paths, fixture tensors, error measures.
#pragma once

#include <cmath>
#include <filesystem>
#include <string>

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

}  // namespace dw::vae::test
