#include "pipeline/decode_controller.h"

#include <algorithm>

namespace dw::pipeline {
namespace {

double smooth(double old_value, double sample) {
  return old_value > 0 ? old_value + DecodeController::kSmoothing * (sample - old_value) : sample;
}

}  // namespace

void DecodeController::record_decode(double seconds, std::size_t count) {
  if (count == 0 || seconds <= 0) return;
  decode_s_ = smooth(decode_s_, seconds / static_cast<double>(count));
}

void DecodeController::record_encode(double seconds) {
  if (seconds > 0) encode_s_ = smooth(encode_s_, seconds);
}

std::size_t DecodeController::decodes_at(std::size_t total, std::size_t stride) {
  if (total == 0) return 0;
  stride = std::max<std::size_t>(stride, 1);
  if (stride == 1) return total;
  return (total + stride - 1) / stride + 1;
}

DecodePlan DecodeController::plan(std::size_t total, double content_fps, bool can_stride) const {
  DecodePlan p;
  total = std::max<std::size_t>(total, 1);
  if (!can_stride || total == 1) {
    p.decoded = total;
    p.keeps_up =
        !measured() || encode_s_ + decode_s_ * total <=
                           static_cast<double>(total) / std::max(content_fps, 0.1) / kHeadroom;
    return p;
  }
  if (!measured()) {
    p.stride = total;
    p.decoded = decodes_at(total, total);
    return p;
  }
  const double budget = static_cast<double>(total) / std::max(content_fps, 0.1) / kHeadroom;
  for (std::size_t k = 1; k <= total; ++k) {
    if (encode_s_ + decode_s_ * static_cast<double>(decodes_at(total, k)) <= budget) {
      p.stride = k;
      p.decoded = decodes_at(total, k);
      return p;
    }
  }
  p.stride = total;  // the cheapest plan; the content clock slows to what it delivers
  p.decoded = decodes_at(total, total);
  p.keeps_up = false;
  return p;
}

}  // namespace dw::pipeline
