// The HTTP API and web remote (remote/http_api.h): where it listens and how it is protected.
#pragma once

#include <string>
#include <vector>

namespace dw {

struct RemoteConfig {};

}  // namespace dw
