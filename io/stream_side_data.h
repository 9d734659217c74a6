// Copies stream-level side data (display matrix, HDR metadata, ...) between streams across
// FFmpeg versions: AVStream side data up to libavformat 60.14, codecpar coded_side_data
// after (FFmpeg 6.1 moved it and 7.0 removed the old API).
#pragma once

extern "C" {
#include <libavformat/avformat.h>
}

namespace upscaled::io {

// Copies all side data of `in` to `out` when `only_presentation` is false; otherwise only
// the types that describe the picture rather than the bitstream (rotation, mastering
// display, content light level, stereo 3D, spherical), which survive re-encoding.
void copy_stream_side_data(const AVStream* in, AVStream* out, bool only_presentation);

}  // namespace upscaled::io
