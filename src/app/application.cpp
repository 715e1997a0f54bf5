#include "app/application.h"

#include <spdlog/spdlog.h>

namespace dw {

int run_application(const Config& /*config*/, const RunOptions& /*run*/) {
  spdlog::error("the render loop is not wired in yet");
  return 1;
}

}  // namespace dw
