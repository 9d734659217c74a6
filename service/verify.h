// Output verification: before an output is renamed into place, it must open as media and
// its video stream must have the input's frame count and duration.
//
// Contract: synchronous, reads the files only (libavformat demuxing, no decoding: packets
// are counted, so it is cheap even for long files). Throws upscaled::Error naming the file.
#pragma once

#include <cstdint>
#include <filesystem>

namespace upscaled::service {

struct MediaFacts {
  std::int64_t frames = 0;  // video packets (one frame each for the codecs we write and read)
  double duration_s = 0;    // from the video packets' timestamps; 0 for a single image
};

// Error(code, "<path>: ...") when the file does not open or has no video stream.
MediaFacts probe_media(const std::filesystem::path& path);

// Throws Error(internal, "<output>: verification failed: ...") when the output's frames or
// duration differ from the input's (duration within one frame or 50 ms).
void verify_output(const std::filesystem::path& input, const std::filesystem::path& output);

}  // namespace upscaled::service
