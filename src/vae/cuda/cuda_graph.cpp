#include "vae/cuda/cuda_graph.h"

#include <memory>
#include <optional>

#include "vae/cuda/cuda_check.h"

namespace dw::vae::cuda {

CaptureGuard::CaptureGuard(cudaStream_t stream) : stream_(stream) {
  DW_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
}

CaptureGuard::~CaptureGuard() {
  if (!capturing_) return;
  cudaGraph_t graph = nullptr;
  if (cudaStreamEndCapture(stream_, &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
  cudaGetLastError();  // capture errors are not sticky; later eager work starts clean
}

cudaError_t CaptureGuard::end(cudaGraph_t* graph) {
  capturing_ = false;
  *graph = nullptr;
  return cudaStreamEndCapture(stream_, graph);
}

CudaGraph::~CudaGraph() {
  if (exec_) cudaGraphExecDestroy(exec_);
}

std::string CudaGraph::capture(cudaStream_t stream, const std::function<void()>& record) {
  cudaGraph_t raw = nullptr;
  std::string failure;
  std::optional<CaptureGuard> guard;
  try {
    guard.emplace(stream);
  } catch (const std::exception& e) {  // the capture could not even begin: nothing was recorded
    cudaGetLastError();
    return e.what();
  }
  try {
    record();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  const cudaError_t ended = guard->end(&raw);
  guard.reset();
  if (failure.empty() && ended != cudaSuccess) failure = cudaGetErrorString(ended);
  const std::unique_ptr<CUgraph_st, cudaError_t (*)(cudaGraph_t)> graph(raw, cudaGraphDestroy);
  if (!failure.empty()) {
    cudaGetLastError();
    return failure;
  }
  return instantiate(graph.get());
}

std::string CudaGraph::instantiate(cudaGraph_t graph) {
  updated_ = false;
  if (exec_) {
    cudaGraphExecUpdateResultInfo info{};
    if (cudaGraphExecUpdate(exec_, graph, &info) == cudaSuccess) {
      updated_ = true;
      return "";
    }
    cudaGetLastError();  // a refused update is not an error: the graph is rebuilt below
    cudaGraphExecDestroy(exec_);
    exec_ = nullptr;
  }
  const cudaError_t made = cudaGraphInstantiate(&exec_, graph, 0);
  if (made == cudaSuccess) return "";
  exec_ = nullptr;
  cudaGetLastError();
  return cudaGetErrorString(made);
}

void CudaGraph::launch(cudaStream_t stream) const {
  DW_CHECK(exec_ != nullptr, "CudaGraph::launch: nothing captured");
  DW_CUDA_CHECK(cudaGraphLaunch(exec_, stream));
}

}  // namespace dw::vae::cuda
