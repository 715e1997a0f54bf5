#include "vae/slerp.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.h"

namespace dw::vae {

float eased_t(int i, int n, Easing easing) {
  const float t =
      n <= 0 ? 0.0f : std::clamp(static_cast<float>(i) / static_cast<float>(n + 1), 0.0f, 1.0f);
  switch (easing) {
    case Easing::Linear:
      return t;
    case Easing::Smoothstep:
      return t * t * (3.0f - 2.0f * t);
    case Easing::Cosine:
      return 0.5f - 0.5f * std::cos(std::numbers::pi_v<float> * t);
  }
  return t;
}

HostTensor slerp_host(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                      const SlerpOptions& options) {
  if (a.n != 1 || b.n != 1 || a.c != b.c || a.h != b.h || a.w != b.w || a.size() == 0)
    throw Error("slerp needs two latents of one shape [1, C, h, w], got " + a.shape_text() +
                " and " + b.shape_text());
  const std::size_t plane = a.plane();
  std::vector<double> mean_a(a.c, 0.0), mean_b(a.c, 0.0);
  if (options.mean_center) {
    for (int c = 0; c < a.c; ++c) {
      double sa = 0, sb = 0;
      for (std::size_t i = 0; i < plane; ++i) {
        sa += a.data[c * plane + i];
        sb += b.data[c * plane + i];
      }
      mean_a[c] = sa / static_cast<double>(plane);
      mean_b[c] = sb / static_cast<double>(plane);
    }
  }
  // Norms and the angle of the centred latents, in double.
  double dot = 0, norm_a = 0, norm_b = 0;
  for (int c = 0; c < a.c; ++c) {
    for (std::size_t i = 0; i < plane; ++i) {
      const double x = a.data[c * plane + i] - mean_a[c];
      const double y = b.data[c * plane + i] - mean_b[c];
      dot += x * y;
      norm_a += x * x;
      norm_b += y * y;
    }
  }
  norm_a = std::sqrt(norm_a);
  norm_b = std::sqrt(norm_b);
  const bool degenerate = norm_a < 1e-12 || norm_b < 1e-12;
  const double cosine = degenerate ? 1.0 : std::clamp(dot / (norm_a * norm_b), -1.0, 1.0);
  const double omega = std::acos(cosine);
  const double sin_omega = std::sin(omega);
  const bool linear = degenerate || sin_omega < options.lerp_threshold;

  HostTensor out(static_cast<int>(t.size()), a.c, a.h, a.w);
  for (std::size_t k = 0; k < t.size(); ++k) {
    const double tk = t[k];
    double wa, wb;  // weights of the centred a and b
    if (linear) {
      wa = 1.0 - tk;
      wb = tk;
    } else {
      const double norm = (1.0 - tk) * norm_a + tk * norm_b;
      wa = norm * std::sin((1.0 - tk) * omega) / sin_omega / norm_a;
      wb = norm * std::sin(tk * omega) / sin_omega / norm_b;
    }
    float* dst = out.at(static_cast<int>(k), 0);
    for (int c = 0; c < a.c; ++c) {
      const double mean = (1.0 - tk) * mean_a[c] + tk * mean_b[c];
      const float* pa = a.data.data() + c * plane;
      const float* pb = b.data.data() + c * plane;
      float* d = dst + c * plane;
      for (std::size_t i = 0; i < plane; ++i)
        d[i] = static_cast<float>(wa * (pa[i] - mean_a[c]) + wb * (pb[i] - mean_b[c]) + mean);
    }
  }
  return out;
}

}  // namespace dw::vae
