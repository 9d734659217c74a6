#include "kernels/backend.h"

#ifdef UPSCALED_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace upscaled::kernels {
namespace {

struct CudaProbe {
  bool usable = false;
  std::string status;
};

const CudaProbe& probe() {
  static const CudaProbe p = [] {
    CudaProbe r;
#ifdef UPSCALED_WITH_CUDA
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      r.status = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e);
      cudaGetLastError();  // clear the sticky-free error so later calls start clean
      return r;
    }
    int runtime = 0;
    cudaRuntimeGetVersion(&runtime);
    r.usable = count > 0;
    r.status = "CUDA runtime " + std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10) + ", " +
               std::to_string(count) + " device(s)";
#else
    r.status = "not compiled in (build configured without CUDA)";
#endif
    return r;
  }();
  return p;
}

}  // namespace

const char* backend_name(Backend b) {
  return b == Backend::cuda ? "cuda" : "cpu";
}

bool cuda_compiled() {
#ifdef UPSCALED_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_usable() {
  return probe().usable;
}

std::string cuda_status() {
  return probe().status;
}

std::vector<Backend> available_backends() {
  std::vector<Backend> b{Backend::cpu};
  if (cuda_usable()) b.push_back(Backend::cuda);
  return b;
}

}  // namespace upscaled::kernels
