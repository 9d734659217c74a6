// Opens an input file and reads its packets.
//
// Contract: synchronous, single-threaded use (the demux stage owns it). The constructor
// classifies every way an input can be bad into one upscaled::Error naming the file:
// missing or unreadable (input_missing), empty, not media, no video stream, no decoder for
// the video codec (input_invalid). The Demuxer owns the AVFormatContext; streams stay
// valid for its lifetime.
#pragma once

#include "io/av_handles.h"

#include <cstdint>
#include <filesystem>

namespace upscaled::io {

class Demuxer {
 public:
  explicit Demuxer(const std::filesystem::path& path);

  AVFormatContext* context() const { return ctx_.get(); }
  int video_index() const { return video_index_; }
  AVStream* video_stream() const { return ctx_->streams[video_index_]; }
  const std::filesystem::path& path() const { return path_; }
  bool is_image() const;  // a still image (image2/png/jpeg pipe demuxers, one frame)

  // Frames in the video stream, from the container or estimated from duration and frame
  // rate; 0 when unknown.
  std::int64_t estimated_frames() const;

  // Reads the next packet into pkt; false at end of file. Read errors other than EOF throw
  // Error(input_invalid) naming the file.
  bool read(AVPacket* pkt);

 private:
  std::filesystem::path path_;
  InputFormatPtr ctx_;
  int video_index_ = -1;
};

}  // namespace upscaled::io
