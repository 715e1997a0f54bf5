// Runs a Graph on the CPU, op by op. Values are freed after their last use and their memory is
// reused (a pool of buffers kept between runs, so steady-state runs do not allocate; a run that
// throws hands its buffers back all the same); elementwise
// ops whose input dies with them run in place; GroupNorm followed by its only consumer SiLU runs
// as one pass.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "vae/cpu_ops.h"
#include "vae/graph.h"
#include "vae/tensor.h"
#include "vae/thread_pool.h"

namespace dw::vae {

class CpuGraphRunner {
 public:
  explicit CpuGraphRunner(ThreadPool& pool) : pool_(pool) {}

  // input: [N, graph.input_channels(), H, W] -> the graph's output. Batches are run in chunks so
  // that no single value exceeds `max_value_bytes` (memory stays bounded for large batches).
  // Throws dw::Error when the input does not fit the graph (channels, or a size the graph's
  // strides cannot divide).
  HostTensor run(const Graph& graph, const HostTensor& input);
  void run_into(const Graph& graph, const HostTensor& input, HostTensor& output);

  std::size_t max_value_bytes = std::size_t(1) << 30;
  // When set, checked before every op: a set flag stops the run with dw::Cancelled.
  const std::atomic<bool>* cancel = nullptr;
  // Memory held by the buffer pool between runs.
  std::size_t pooled_bytes() const;
  void release_memory();

 private:
  struct Buffer {
    std::unique_ptr<float[]> data;
    std::size_t capacity = 0;
    bool in_use = false;
  };
  int acquire(std::size_t floats);
  void run_chunk(const Graph& graph, const float* input, const cpu::Shape& shape, float* output);

  ThreadPool& pool_;
  cpu::Scratch scratch_;
  std::vector<Buffer> buffers_;
};

}  // namespace dw::vae
