#include "vae/tensor.h"

namespace dw::vae {

std::string HostTensor::shape_text() const {
  return "[" + std::to_string(n) + ", " + std::to_string(c) + ", " + std::to_string(h) + ", " +
         std::to_string(w) + "]";
}

}  // namespace dw::vae
