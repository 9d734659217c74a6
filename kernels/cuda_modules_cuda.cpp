// kernels/cuda_modules.h with the CUDA runtime. The driver calls (a function's module, the
// module's functions, loading one) come through cudaGetDriverEntryPointByVersion, so that
// nothing links libcuda: the runtime finds it at run time as it does for every other call.
#include "kernels/cuda_modules.h"

#include <cuda.h>
#include <cuda_runtime_api.h>

#include <string>
#include <vector>

namespace upscaled::kernels {
namespace {

using GetModule = CUresult (*)(CUmodule*, CUfunction);
using CountFunctions = CUresult (*)(unsigned int*, CUmodule);
using EnumerateFunctions = CUresult (*)(CUfunction*, unsigned int, CUmodule);
using LoadFunction = CUresult (*)(CUfunction);
using IsLoaded = CUresult (*)(CUfunctionLoadingState*, CUfunction);

struct DriverCalls {
  GetModule get_module = nullptr;
  CountFunctions count = nullptr;
  EnumerateFunctions enumerate = nullptr;
  LoadFunction load = nullptr;
  IsLoaded is_loaded = nullptr;
  std::string missing;  // the first call this driver lacks
};

template <typename F>
F entry(const char* name, std::string& missing) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult found{};
  if (cudaGetDriverEntryPointByVersion(name, &fn, CUDART_VERSION, cudaEnableDefault, &found) != cudaSuccess ||
      found != cudaDriverEntryPointSuccess || !fn) {
    cudaGetLastError();  // not sticky; keep it from the next caller's check
    if (missing.empty()) missing = name;
    return nullptr;
  }
  return reinterpret_cast<F>(fn);
}

const DriverCalls& driver() {
  static const DriverCalls calls = [] {
    DriverCalls c;
    c.get_module = entry<GetModule>("cuFuncGetModule", c.missing);
    c.count = entry<CountFunctions>("cuModuleGetFunctionCount", c.missing);
    c.enumerate = entry<EnumerateFunctions>("cuModuleEnumerateFunctions", c.missing);
    c.load = entry<LoadFunction>("cuFuncLoad", c.missing);
    c.is_loaded = entry<IsLoaded>("cuFuncIsLoaded", c.missing);
    return c;
  }();
  return calls;
}

void add(ModuleLoadResult& total, const ModuleLoadResult& one) {
  total.modules += one.modules;
  total.found += one.found;
  total.functions += one.functions;
  if (total.error.empty()) total.error = one.error;
}

// Every kernel of the module (the *.cu file) that holds `kernel`.
ModuleLoadResult load_cuda_module_of(const void* kernel) {
  ModuleLoadResult r;
  const DriverCalls& d = driver();
  if (!d.missing.empty()) {
    r.error = "the driver has no " + d.missing;
    return r;
  }
  cudaFunction_t function = nullptr;
  if (const cudaError_t e = cudaGetFuncBySymbol(&function, kernel); e != cudaSuccess) {
    cudaGetLastError();
    r.error = std::string("cudaGetFuncBySymbol: ") + cudaGetErrorString(e);
    return r;
  }
  CUmodule module = nullptr;
  unsigned int count = 0;
  if (d.get_module(&module, function) != CUDA_SUCCESS || d.count(&count, module) != CUDA_SUCCESS) {
    r.error = "cuFuncGetModule / cuModuleGetFunctionCount failed";
    return r;
  }
  std::vector<CUfunction> functions(count);
  if (count > 0 && d.enumerate(functions.data(), count, module) != CUDA_SUCCESS) {
    r.error = "cuModuleEnumerateFunctions failed";
    return r;
  }
  r.found = static_cast<int>(count);
  for (CUfunction f : functions) {
    CUfunctionLoadingState state = CU_FUNCTION_LOADING_STATE_UNLOADED;
    if (d.load(f) == CUDA_SUCCESS && d.is_loaded(&state, f) == CUDA_SUCCESS &&
        state == CU_FUNCTION_LOADING_STATE_LOADED)
      ++r.functions;
    else if (r.error.empty())
      r.error = "cuFuncLoad failed";
  }
  r.modules = 1;
  return r;
}

}  // namespace

ModuleLoadResult load_cuda_kernels() {
  ModuleLoadResult total;
  for (const void* anchor :
       {detail::from_rgb_module(), detail::to_rgb_module(), detail::grayscale_module(), detail::resize_module(),
        detail::resize_periodic_module(), detail::resize_sliding_module()})
    add(total, load_cuda_module_of(anchor));
  return total;
}

}  // namespace upscaled::kernels
