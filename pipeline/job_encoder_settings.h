// The video encoder a job asks for and its settings, derived from the job's options, the
// input's video stream and the planned frame geometry (pipeline/transcode_job.cpp).
//
// Contract: pure functions, synchronous, no FFmpeg objects made or kept; the AVStream is
// only read.
#pragma once

#include "io/encoder.h"
#include "pipeline/frame_geometry.h"
#include "pipeline/transcode_job.h"

#include <filesystem>
#include <string>

extern "C" {
#include <libavformat/avformat.h>
}

namespace upscaled::pipeline {

// The encoder for `output`: png / mjpeg for still-image names, else `video_codec`.
std::string encoder_for(const std::filesystem::path& output, const std::string& video_codec);

// Whether the encoder gets a chroma-subsampled format: not for images (png, mjpeg) and not for
// 4:4:4 or RGB sources, which keep full chroma.
bool subsampled_output(const std::string& codec, AVPixelFormat source);

// The video encoder's settings: the planned output size and aspect, the input's timing and
// colour tags (untagged input tagged with the matrix and range it was read with, so players do
// not guess BT.709 for upscaled SD), the user's quality settings.
io::EncoderConfig encoder_config(const JobOptions& opt, const std::string& codec, const AVStream* in_video,
                                 const FramePlan& geo, bool global_header);

}  // namespace upscaled::pipeline
