#include "pipeline/folder_source.h"

#include "core/error.h"

namespace dw::pipeline {

FolderKeyframeSource::FolderKeyframeSource(std::vector<Image> images) : images_(std::move(images)) {
  DW_CHECK(!images_.empty(), "the folder source needs at least one image");
}

bool FolderKeyframeSource::submit(KeyframeRequest request) {
  const Image& image = images_[(request.index - 1) % images_.size()];
  return results_.push(Keyframe{request.index, image, std::nullopt, "folder"}, WhenFull::Skip);
}

std::optional<Keyframe> FolderKeyframeSource::next(std::stop_token stop,
                                                   std::chrono::milliseconds timeout) {
  return results_.pop(stop, timeout);
}

}  // namespace dw::pipeline
