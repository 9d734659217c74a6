// The register-window resize kernel for x2 up and x2 down with short filters (contract
// below), internal to kernels/. launch_periodic (resize_periodic_cuda.cu) runs it for the
// periodic plans it takes where sliding_preferred says so or the source pitches keep the
// aligned tile kernel out, and its shared-memory tile kernels otherwise (and for x4 and x1.5
// up, Lanczos-3, bicubic down).
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

// Whether, where the aligned periodic kernel can run too (every source pitch a multiple of 16
// bytes, and the comparison switches UPSCALED_RESIZE_ALIGNED / _ASYNC_FILL not 0), this kernel
// is the faster one: for 2 taps per phase (bilinear and area x2 up, area x2
// down) it is; for 4 (bicubic x2 up, bilinear x2 down) the aligned kernel's 128-column tiles
// measured faster on the H200 at 3840x2160 float16 (69.1-70.3% against 65.5-68.0% of the copy
// rate, 67.9-68.2% against 60.2-62.3%; twenty-third session, run 2).
bool sliding_preferred(const detail::PeriodicTaps& t);

template <typename T>
void launch_sliding(const detail::PeriodicTaps& t, const Planes3<const T>& src, const Planes3<T>& dst, int planes,
                    int sw, int sh, int dw, int dh, cudaStream_t stream);

}  // namespace upscaled::kernels::cudadetail
