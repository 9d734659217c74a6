// Filter tap tables shared by resize_cpu and the CUDA resize plan, so both backends use the
// same weights bit for bit (internal to kernels/).
#pragma once

#include "kernels/resize.h"

#include <vector>

namespace upscaled::kernels::detail {

// For each destination index d: taps at source indices first[d] + k, k in [0, count),
// clamped into [0, src_size) by the user (replicated border); weights sum to 1.
struct Taps {
  int count = 0;
  std::vector<int> first;
  std::vector<float> weights;  // dst_size * count
};

Taps make_taps(int src_size, int dst_size, ResizeFilter f);

}  // namespace upscaled::kernels::detail
