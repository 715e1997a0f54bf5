// Recording the canvas to video, screenshots and the keyframe archive.
#pragma once

#include <string>
#include <vector>

namespace dw {

struct RecordConfig {};

}  // namespace dw
