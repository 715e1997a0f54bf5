// CUDA-GL interop: GPU-resident frames (from the CUDA VAE backend) written straight into the
// frame's GL texture, with no host copy. Each texture is registered with CUDA once (again after
// release_storage), mapped only around the write and unmapped before GL draws with it; the write
// waits on the frame's ready event. Main thread only (it needs the GL context).
#pragma once

#include <memory>

#include "render/frame_uploader.h"

namespace dw::render {

// dither: 4x4 ordered dithering when fp16 frames are quantised to the RGBA8 texture.
// Throws dw::Error when no CUDA device is usable.
std::unique_ptr<FrameUploader> make_cuda_frame_uploader(bool dither = false);

}  // namespace dw::render
