// Encodes the upscaled video: libx264/libx265 (or NVENC, AV1: io/encoder_select.h) for
// video outputs, png/mjpeg for images.
//
// Contract: synchronous, single-threaded use (the encode stage owns it). Opened in the
// constructor with everything the muxer's header needs (extradata with global headers).
// send() takes frames in the encoder's pixel format and size (nullptr flushes);
// receive() returns packets in the encoder's time_base until it needs more input.
#pragma once

#include "io/av_handles.h"

#include <string>

namespace upscaled::io {

struct EncoderConfig {
  std::string codec = "libx264";  // libx264, libx265, *_nvenc, libsvtav1, png, mjpeg
  int width = 0;
  int height = 0;
  AVPixelFormat source_format = AV_PIX_FMT_NONE;  // the decoded format; kept when supported
  AVRational time_base{1, 25};
  AVRational frame_rate{0, 1};  // average rate, a hint for rate control; 0/1 = unknown
  AVRational sample_aspect_ratio{0, 1};
  AVColorPrimaries primaries = AVCOL_PRI_UNSPECIFIED;
  AVColorTransferCharacteristic transfer = AVCOL_TRC_UNSPECIFIED;
  AVColorSpace matrix = AVCOL_SPC_UNSPECIFIED;
  AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
  AVChromaLocation chroma_location = AVCHROMA_LOC_UNSPECIFIED;
  int crf = 18;
  std::string preset = "medium";
  bool global_header = false;  // the container wants extradata (AVFMT_GLOBALHEADER)
};

class Encoder {
 public:
  explicit Encoder(const EncoderConfig& config);

  AVCodecContext* context() const { return ctx_.get(); }
  AVPixelFormat pixel_format() const { return ctx_->pix_fmt; }
  void send(const AVFrame* frame);
  bool receive(AVPacket* pkt);

 private:
  CodecContextPtr ctx_;
};

}  // namespace upscaled::io
