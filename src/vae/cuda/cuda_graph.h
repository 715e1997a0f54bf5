// Replaying stream work as one CUDA graph (launch overhead matters for small models and
// batches), as a small RAII helper:
//  - CaptureGuard begins a capture on a stream and always ends it when it leaves scope, so an
//    exception inside the captured code never leaves the stream capturing;
//  - CudaGraph::capture records what a function enqueues; when it already holds an executable
//    graph it first tries to update that graph in place (cudaGraphExecUpdate: same topology, new
//    arguments, no re-instantiation) and rebuilds it only when the update is refused.
// Host code only.
#pragma once

#include <cuda_runtime_api.h>

#include <functional>
#include <string>

namespace dw::vae::cuda {

class CaptureGuard {
 public:
  // Begins a thread-local capture on `stream` (throws dw::Error when it cannot).
  explicit CaptureGuard(cudaStream_t stream);
  // Ends the capture if end() was not called, and destroys what it captured.
  ~CaptureGuard();
  CaptureGuard(const CaptureGuard&) = delete;
  CaptureGuard& operator=(const CaptureGuard&) = delete;
  // Ends the capture: the graph (the caller destroys it) or null with the error.
  cudaError_t end(cudaGraph_t* graph);

 private:
  cudaStream_t stream_;
  bool capturing_ = true;
};

class CudaGraph {
 public:
  CudaGraph() = default;
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Captures what record() enqueues on `stream` into this graph. "" on success, else why (a
  // failure leaves the previous executable graph, if any, as it was; nothing captured has run).
  std::string capture(cudaStream_t stream, const std::function<void()>& record);
  bool ready() const { return exec_ != nullptr; }
  // Whether the last successful capture updated the executable graph in place.
  bool last_capture_updated() const { return updated_; }
  void launch(cudaStream_t stream) const;

 private:
  std::string instantiate(cudaGraph_t graph);
  cudaGraphExec_t exec_ = nullptr;
  bool updated_ = false;
};

}  // namespace dw::vae::cuda
