// Writes the output container: the encoded video plus every other stream of the input
// copied bit-exact, with container and stream metadata, chapters, dispositions and stream
// side data (rotation, HDR metadata).
//
// Contract: single-threaded use (the mux stage owns it). Construction maps the input's
// streams and opens `path` for writing (the caller passes a temporary name; the container
// format comes from `format_name_hint`, the final name). write_header() once the encoder
// is open; write_video()/write_copied() take ownership of the packet's contents
// (av_interleaved_write_frame); finish() writes the trailer and flushes. A stream the
// container cannot hold is an Error(output) naming it, before anything is written.
#pragma once

#include "io/av_handles.h"

#include <filesystem>
#include <string>
#include <vector>

namespace upscaled::io {

class Muxer {
 public:
  Muxer(const std::filesystem::path& path, const std::filesystem::path& format_name_hint, const AVFormatContext* input,
        int input_video_index);

  bool wants_global_header() const;
  bool is_image_format() const;
  // Fills in the video stream from the opened encoder; call once, before write_header().
  void add_video(const AVCodecContext* encoder);
  void write_header();
  void write_video(AVPacket* pkt, AVRational encoder_time_base);
  // `pkt->stream_index` is the INPUT stream index; packets of unmapped streams are dropped.
  void write_copied(AVPacket* pkt);
  void finish();

 private:
  std::filesystem::path path_;
  std::filesystem::path final_name_;  // what the user asked for: named in error messages
  OutputFormatPtr ctx_;
  const AVFormatContext* input_;
  int input_video_index_;
  int output_video_index_ = -1;
  std::vector<int> stream_map_;  // input index -> output index, -1 = not copied
};

}  // namespace upscaled::io
