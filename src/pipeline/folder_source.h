// The folder source: keyframes are the images of a folder, in name order, round and round; the
// pipeline interpolates between them like any other keyframes (latent slerp with a VAE, a
// crossfade without). For slideshows of a curated set, and for tests that need to know exactly
// what a keyframe looks like.
#pragma once

#include <vector>

#include "core/bounded_queue.h"
#include "pipeline/keyframe_source.h"

namespace dw::pipeline {

class FolderKeyframeSource final : public KeyframeSource {
 public:
  // `images` already at keyframe size; keyframe k shows images[(k - 1) % size].
  explicit FolderKeyframeSource(std::vector<Image> images);

  std::string name() const override { return "folder"; }
  bool submit(KeyframeRequest request) override;
  std::optional<Keyframe> next(std::stop_token stop, std::chrono::milliseconds timeout) override;
  std::size_t pending() const override { return results_.size(); }
  // Answers at once: as many as its result queue holds.
  std::size_t capacity() const override { return results_.capacity(); }
  bool healthy() const override { return true; }

 private:
  std::vector<Image> images_;
  BoundedQueue<Keyframe> results_{4};
};

}  // namespace dw::pipeline
