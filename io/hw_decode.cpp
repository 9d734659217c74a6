#include "io/hw_decode.h"

#include "core/log.h"
#include "io/av_error.h"

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/pixdesc.h>
}

namespace upscaled::io {
namespace {

// 4:2:0 at 8 or 10 bits: what NVDEC decodes into nv12/p010 and the kernels read.
std::string format_obstacle(AVPixelFormat format) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
  if (!d) return "unknown pixel format";
  if (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL) || d->nb_components < 3)
    return std::string(av_get_pix_fmt_name(format)) + " is not Y'CbCr 4:2:0";
  if (d->log2_chroma_w != 1 || d->log2_chroma_h != 1)
    return std::string(av_get_pix_fmt_name(format)) + " is not 4:2:0 (NVDEC path takes 4:2:0 only)";
  if (d->comp[0].depth != 8 && d->comp[0].depth != 10)
    return std::string(av_get_pix_fmt_name(format)) + " has " + std::to_string(d->comp[0].depth) +
           " bits (NVDEC path takes 8 and 10)";
  return {};
}

bool has_cuda_hwaccel(const AVCodec* codec) {
  for (int i = 0;; ++i) {
    const AVCodecHWConfig* c = avcodec_get_hw_config(codec, i);
    if (!c) return false;
    if (c->device_type == AV_HWDEVICE_TYPE_CUDA && (c->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) &&
        c->pix_fmt == AV_PIX_FMT_CUDA)
      return true;
  }
}

void log_fallback(HwDecodeState& state, const std::string& why) {
  {
    std::lock_guard lock(state.mutex);
    state.fallback_reason = why;
  }
  if (state.required) return;  // the Decoder throws with the reason instead
  if (!state.fallback_logged.exchange(true))
    log::warn("'" + state.source + "': decode: libavcodec on the CPU instead of NVDEC (" + why + ")");
}

// FFmpeg's get_format: AV_PIX_FMT_CUDA when offered and the stream's format suits the
// kernels; otherwise the first software format. FFmpeg calls it again without
// AV_PIX_FMT_CUDA when the hwaccel failed to start, which is how that failure shows here.
AVPixelFormat choose_format(AVCodecContext* ctx, const AVPixelFormat* formats) {
  auto& state = *static_cast<HwDecodeState*>(ctx->opaque);
  bool cuda_offered = false;
  AVPixelFormat software = AV_PIX_FMT_NONE;
  for (const AVPixelFormat* p = formats; *p != AV_PIX_FMT_NONE; ++p) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(*p);
    if (*p == AV_PIX_FMT_CUDA)
      cuda_offered = true;
    else if (software == AV_PIX_FMT_NONE && d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL))
      software = *p;
  }
  const std::string bad_format = format_obstacle(ctx->sw_pix_fmt);
  if (cuda_offered && bad_format.empty()) {
    state.cuda_chosen = true;
    return AV_PIX_FMT_CUDA;
  }
  std::string why;
  if (!bad_format.empty())
    why = bad_format;
  else if (state.cuda_chosen)
    why = "FFmpeg's CUDA hwaccel failed to start for " + std::string(av_get_pix_fmt_name(ctx->sw_pix_fmt)) + " " +
          std::to_string(ctx->coded_width) + "x" + std::to_string(ctx->coded_height) +
          "; FFmpeg's message is shown with --log-level debug";
  else
    why = std::string("NVDEC does not decode this ") + avcodec_get_name(ctx->codec_id) + " profile";
  state.cuda_chosen = false;
  log_fallback(state, why);
  return software;
}

}  // namespace

std::string nvdec_obstacle(const AVCodecParameters* par) {
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  const std::string name = avcodec_get_name(par->codec_id);
  if (!codec) return "no " + name + " decoder";
  if (!has_cuda_hwaccel(codec)) return "this FFmpeg build has no CUDA hwaccel (NVDEC) for " + name;
  const auto format = static_cast<AVPixelFormat>(par->format);
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
  if (par->codec_id == AV_CODEC_ID_H264 && d && d->comp[0].depth > 8)
    return "NVDEC decodes 8-bit H.264 only (this stream is " + std::string(av_get_pix_fmt_name(format)) + ")";
  return format_obstacle(format);
}

void enable_hw_decode(AVCodecContext* ctx, const HwDecodeOptions& options, HwDecodeState& state) {
  ctx->hw_device_ctx = av_buffer_ref(options.device);
  if (!ctx->hw_device_ctx) throw std::bad_alloc();
  ctx->extra_hw_frames = options.extra_frames;
  state.required = options.required;
  ctx->opaque = &state;
  ctx->get_format = choose_format;
}

void check_required_device_frame(const AVFrame* frame, HwDecodeState& state) {
  if (!state.required || is_device_frame(frame)) return;
  std::string why;
  {
    std::lock_guard lock(state.mutex);
    why = state.fallback_reason.empty() ? "the decoder returned a system-memory frame" : state.fallback_reason;
  }
  throw Error(ErrorCode::gpu_required, "'" + state.source + "': --decode nvdec: NVDEC cannot decode it (" + why + ")");
}

bool is_device_frame(const AVFrame* frame) {
  return frame->format == AV_PIX_FMT_CUDA && frame->hw_frames_ctx;
}

AVPixelFormat device_sw_format(const AVFrame* frame) {
  if (!is_device_frame(frame)) return AV_PIX_FMT_NONE;
  return reinterpret_cast<const AVHWFramesContext*>(frame->hw_frames_ctx->data)->sw_format;
}

void download_device_frames(std::vector<FramePtr>& frames) {
  for (FramePtr& f : frames) {
    if (!is_device_frame(f.get())) continue;
    FramePtr host = make_frame();
    av_check(av_hwframe_transfer_data(host.get(), f.get(), 0), "copying a decoded frame from the GPU",
             ErrorCode::device);
    av_check(av_frame_copy_props(host.get(), f.get()), "copying frame properties");
    f = std::move(host);
  }
}

}  // namespace upscaled::io
