// The CUDA backend's kernel for resizes whose tap tables repeat (x2, x4 and x1.5 up, x2 down;
// detail::find_periodic decides), internal to kernels/. ResizeCuda (resize_cuda.cu)
// runs it instead of its general tiled kernel when the plan is periodic.
//
// Contract: asynchronous on `stream`; src and dst are device planes kept alive by the caller
// until the stream passes; `planes` (1 or 3) planes of src (sw x sh) are resized into dst
// (dw x dh) with the taps of `t`; nothing outside dst's rows' [0, dw) is written. The sums
// are make_taps' (same weights, same order; zero padding taps add 0), with the source's
// border replicated where make_taps folded taps onto it. Throws CudaError when a launch fails.
// Sources whose pitches are all multiples of 16 bytes take the aligned kernel
// (resize_periodic_aligned.cuh), others the first one, whose windows are filled by cp.async in
// the source's type (resize_periodic_fill.cuh; UPSCALED_RESIZE_ASYNC_FILL=0, read once per
// process, fills them as float from registers instead); short filters at x2 take the
// register-window kernel (resize_sliding_cuda.cuh). All give the same results.
#pragma once

#include "kernels/cuda_common.cuh"
#include "kernels/resize_taps.h"

namespace upscaled::kernels::cudadetail {

// Whether launch_periodic has a kernel for t (its ratio and tap count).
bool periodic_supported(const detail::PeriodicTaps& t);

// Lets t's kernels use the shared memory they need on the current device (synchronous; once
// per plan, before the first launch_periodic).
void configure_periodic(const detail::PeriodicTaps& t);

// T -> D: float -> float, float16 -> float16, and float -> float16. `intermediate`: src is the
// fused frame run's float32 RGB intermediate (resize_cuda.cu), which the comparison switches
// UPSCALED_RESIZE_ALIGNED / _ASYNC_FILL (for plane runs) do not steer: it takes the aligned
// kernel unless the register-window one is preferred (sliding_preferred); float -> float16
// always takes it. Both need every src pitch a multiple of 16 bytes (std::logic_error otherwise).
// Returns false, having launched nothing, when t's ratio has no kernel for these planes (x1.5
// up runs on the aligned kernel only: src pitches of 16-byte multiples, switches on); the
// caller then runs its general kernel.
template <typename T, typename D>
bool launch_periodic(const detail::PeriodicTaps& t, const Planes3<const T>& src, const Planes3<D>& dst, int planes,
                     int sw, int sh, int dw, int dh, cudaStream_t stream, bool intermediate = false);

}  // namespace upscaled::kernels::cudadetail
