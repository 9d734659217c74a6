// This library's CUDA kernels loaded into a device's context ahead of their first launch.
//
// CUDA loads a kernel lazily, at its first launch (the default since CUDA 12.2), and such a
// load waits for the GPU's work in flight. In a running pipeline that is a stall: the
// postprocess stage's first conversion, launched while the next batch's network ran, waited
// for that whole batch and held up the stages behind it (measured on the H200,
// docs/gpu-pipeline.md, start-up). Loading every kernel while the GPU is idle leaves only
// the loads' own cost.
//
// Contract: synchronous, host only (no stream, no GPU work), thread-safe; loads into the
// current device's context (the caller sets the device). Never throws: a failure only
// leaves the loads to the first launches, and the result says what went wrong. In a build
// without CUDA it does nothing and says so.
#pragma once

#include <string>

namespace upscaled::kernels {

struct ModuleLoadResult {
  int modules = 0;    // CUDA modules (one per *_cuda.cu file) whose kernels were loaded
  int found = 0;      // kernels in those modules, template instantiations counted one by one
  int functions = 0;  // of those, the ones the driver reports loaded afterwards
  std::string error;  // empty when every module loaded
};

// Every kernel of this library's *_cuda.cu files.
ModuleLoadResult load_cuda_kernels();

namespace detail {
// The address of one __global__ function of each *_cuda.cu file (its module), defined in
// that file: what load_cuda_kernels() finds each module by.
const void* from_rgb_module();
const void* to_rgb_module();
const void* grayscale_module();
const void* resize_module();
const void* resize_periodic_module();
const void* resize_sliding_module();
}  // namespace detail

}  // namespace upscaled::kernels
