// The one kernel of the CUDA-GL interop path (frame_to_surface.cu): a GPU-resident frame (RGBA8
// or planar fp16 in [0, 1]) written into a mapped GL texture's array through a surface object,
// optionally with 4x4 ordered dithering for the fp16 planes. No GL types here.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "core/frame.h"

namespace dw::render::ops {

// Checks the frame's size and pitch, launches on `stream` and checks the launch.
void frame_to_surface(const void* pixels, DevicePixelFormat format, std::size_t pitch, int width,
                      int height, bool dither, cudaSurfaceObject_t surface, cudaStream_t stream);

}  // namespace dw::render::ops
