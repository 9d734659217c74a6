// The register-window resize kernel for x2 up and x2 down with short filters (contract
// below), internal to kernels/. launch_periodic (resize_periodic_cuda.cu) runs it for the
// periodic plans it takes, and its shared-memory tile kernel for the others (x4 up,
// Lanczos-3, bicubic down).
//
// Contract: asynchronous on `stream`; src and dst are device planes kept alive by the caller
// until the stream passes; `planes` (1 or 3) planes of src (sw x sh) are resized into dst
// (dw x dh) with the taps of `t`, the same sums in the same order as the tile kernel
// (horizontal pass in float, then vertical); nothing outside dst's rows' [0, dw) is written.
// Throws CudaError when a launch fails.
#pragma once

#include "kernels/cuda_common.cuh"
#include "kernels/resize_taps.h"

namespace upscaled::kernels::cudadetail {

// Whether launch_sliding has a kernel for t: x2 up or x2 down, at most 4 taps per phase by
// periodic_taps_fit, and the window origin those filters have.
bool sliding_supported(const detail::PeriodicTaps& t);

template <typename T>
void launch_sliding(const detail::PeriodicTaps& t, const Planes3<const T>& src, const Planes3<T>& dst, int planes,
                    int sw, int sh, int dw, int dh, cudaStream_t stream);

}  // namespace upscaled::kernels::cudadetail
