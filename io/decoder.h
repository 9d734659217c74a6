// Decodes one video stream.
//
// Contract: synchronous, single-threaded use (the decode stage owns it). send() takes a
// packet (nullptr flushes at end of stream); receive() returns decoded frames until it
// needs more input. Frames carry best_effort_timestamp in `pts`, in the stream's
// time_base. Corrupt data throws Error(input_invalid) naming the file and the position.
// FFmpeg's frame threading is used (threads = cores).
// With HwDecodeOptions (io/hw_decode.h) the decoder uses NVDEC where it can: frames come
// back in device memory (AV_PIX_FMT_CUDA), one decoding thread, CPU fallback as described
// there. Movable; the get_format state moves with it.
#pragma once

#include "io/av_handles.h"
#include "io/hw_decode.h"

#include <filesystem>
#include <functional>
#include <memory>

namespace upscaled::io {

class Decoder {
 public:
  Decoder(const AVStream* stream, const std::filesystem::path& source, const HwDecodeOptions* hw = nullptr);

  AVCodecContext* context() const { return ctx_.get(); }
  void send(const AVPacket* pkt);
  // Fills `frame` and returns true, or returns false when more input is needed or the
  // stream has ended.
  bool receive(AVFrame* frame);

 private:
  CodecContextPtr ctx_;
  AVRational time_base_;
  std::filesystem::path source_;
  std::unique_ptr<HwDecodeState> hw_state_;  // null without HwDecodeOptions; ctx_->opaque
  std::function<void(AVFrame*)> on_device_frame_;
};

}  // namespace upscaled::io
