#include "io/decoder.h"

#include "io/av_error.h"

#include <string>

namespace upscaled::io {

Decoder::Decoder(const AVStream* stream, const std::filesystem::path& source, const HwDecodeOptions* hw)
    : time_base_(stream->time_base), source_(source) {
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  const std::string where = "'" + source.string() + "'";
  if (!codec)
    throw Error(ErrorCode::input_invalid,
                where + ": unsupported video codec '" + avcodec_get_name(stream->codecpar->codec_id) + "'");
  ctx_.reset(avcodec_alloc_context3(codec));
  if (!ctx_) throw std::bad_alloc();
  av_check(avcodec_parameters_to_context(ctx_.get(), stream->codecpar), where + ": decoder parameters");
  ctx_->pkt_timebase = stream->time_base;
  ctx_->thread_count = 0;  // auto
  if (hw) {
    hw_state_ = std::make_unique<HwDecodeState>();
    hw_state_->source = source.string();
    enable_hw_decode(ctx_.get(), *hw, *hw_state_);
    on_device_frame_ = hw->on_device_frame;
    ctx_->thread_count = 1;  // NVDEC decodes; frame threads would only add decoder surfaces
  }
  av_check(avcodec_open2(ctx_.get(), codec, nullptr), where + ": cannot open the " + codec->name + " decoder",
           ErrorCode::input_invalid);
}

void Decoder::send(const AVPacket* pkt) {
  int rc = avcodec_send_packet(ctx_.get(), pkt);
  if (rc == AVERROR_EOF) return;  // already flushed
  if (rc < 0) {
    std::string at;
    if (pkt && pkt->pts != AV_NOPTS_VALUE) at = " at " + std::to_string(pkt->pts * av_q2d(time_base_)) + " s";
    throw Error(ErrorCode::input_invalid,
                "'" + source_.string() + "': corrupt video data" + at + " (" + av_error_text(rc) + ")");
  }
}

bool Decoder::receive(AVFrame* frame) {
  const int rc = avcodec_receive_frame(ctx_.get(), frame);
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return false;
  if (rc < 0)
    throw Error(ErrorCode::input_invalid, "'" + source_.string() + "': decoding failed (" + av_error_text(rc) + ")");
  frame->pts = frame->best_effort_timestamp;
  if (hw_state_) {
    check_required_device_frame(frame, *hw_state_);
    if (on_device_frame_ && is_device_frame(frame)) on_device_frame_(frame);
  }
  return true;
}

}  // namespace upscaled::io
