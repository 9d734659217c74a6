// FFmpeg's swscale as an independent reference for the colour conversions (tests only:
// kernels/ itself never sees FFmpeg). Conversions run with SWS_ACCURATE_RND |
// SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP | SWS_BITEXACT and the matrix/range of `spec`.
#pragma once

#include "kernel_test_util.h"

#include <cstdint>
#include <vector>

namespace upscaled::kernels::test {

// frame -> packed RGB48 (3 x uint16 per pixel, full range 0..65535).
std::vector<std::uint16_t> sws_to_rgb48(const HostFrame& frame, const ColorSpec& spec);

// packed RGB48 (width x height) -> frame (frame's layout and size).
void sws_from_rgb48(const std::vector<std::uint16_t>& rgb48, const ColorSpec& spec, HostFrame& frame);

}  // namespace upscaled::kernels::test
