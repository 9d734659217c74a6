// Which kernel backends this build has and this machine can use. The only place in
// kernels/ (besides the *_cuda files themselves) that knows about UPSCALED_WITH_CUDA:
// callers ask here instead of testing the macro.
//
// Contract: thread-safe; the CUDA probe (cudaGetDeviceCount) runs once, on first use, and
// its answer is cached for the process lifetime.
#pragma once

#include <string>
#include <vector>

namespace upscaled::kernels {

enum class Backend { cpu, cuda };

const char* backend_name(Backend b);

// True when the CUDA kernels were compiled into this build.
bool cuda_compiled();
// True when they were compiled in AND the runtime reports at least one device.
bool cuda_usable();
// Human-readable reason, e.g. "CUDA 13.0 runtime, 1 device(s)", "not compiled in",
// "cudaGetDeviceCount: no CUDA-capable device is detected".
std::string cuda_status();

// Backends usable now, cpu first.
std::vector<Backend> available_backends();

}  // namespace upscaled::kernels
