#include "io/encoder.h"

#include "io/av_error.h"
#include "io/encoder_select.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include <vector>

namespace upscaled::io {
namespace {

bool is_supported(const AVCodec* codec, AVPixelFormat fmt) {
  if (!codec->pix_fmts) return true;
  for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
    if (*p == fmt) return true;
  return false;
}

// Keeps the source format when the encoder takes it; otherwise the closest by depth and
// chroma (FFmpeg's own ranking), so 10-bit stays 10-bit where the encoder allows.
AVPixelFormat choose_format(const AVCodec* codec, const EncoderConfig& cfg) {
  const std::string name = codec->name;
  if (name == "png") {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(cfg.source_format);
    return (d && d->comp[0].depth > 8) ? AV_PIX_FMT_RGB48BE : AV_PIX_FMT_RGB24;
  }
  if (name == "mjpeg") return AV_PIX_FMT_YUVJ444P;
  AVPixelFormat src = cfg.source_format;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(src);
  // Encode RGB, palette and grey sources as 4:2:0 YUV: what players expect from H.264/HEVC.
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) || d->nb_components < 3)
    src = (d && d->comp[0].depth > 8) ? AV_PIX_FMT_YUV420P10LE : AV_PIX_FMT_YUV420P;
  if (is_supported(codec, src)) return src;
  std::vector<AVPixelFormat> list;
  for (const AVPixelFormat* p = codec->pix_fmts; p && *p != AV_PIX_FMT_NONE; ++p) list.push_back(*p);
  list.push_back(AV_PIX_FMT_NONE);
  const AVPixelFormat best = avcodec_find_best_pix_fmt_of_list(list.data(), src, 0, nullptr);
  return best == AV_PIX_FMT_NONE ? list.front() : best;
}

}  // namespace

Encoder::Encoder(const EncoderConfig& cfg) {
  const AVCodec* codec = avcodec_find_encoder_by_name(cfg.codec.c_str());
  if (!codec) throw Error(ErrorCode::usage, "encoder '" + cfg.codec + "' is not available in this FFmpeg build");
  ctx_.reset(avcodec_alloc_context3(codec));
  if (!ctx_) throw std::bad_alloc();
  ctx_->width = cfg.width;
  ctx_->height = cfg.height;
  ctx_->pix_fmt = choose_format(codec, cfg);
  ctx_->time_base = cfg.time_base;
  if (cfg.frame_rate.num > 0) ctx_->framerate = cfg.frame_rate;
  ctx_->sample_aspect_ratio = cfg.sample_aspect_ratio;
  ctx_->color_primaries = cfg.primaries;
  ctx_->color_trc = cfg.transfer;
  ctx_->chroma_sample_location = cfg.chroma_location;
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(ctx_->pix_fmt);
  const bool rgb = desc && (desc->flags & AV_PIX_FMT_FLAG_RGB);
  ctx_->colorspace = rgb ? AVCOL_SPC_RGB : cfg.matrix;
  ctx_->color_range = rgb || ctx_->pix_fmt == AV_PIX_FMT_YUVJ444P ? AVCOL_RANGE_JPEG : cfg.range;
  if (cfg.global_header) ctx_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  ctx_->thread_count = 0;

  const std::string name = codec->name;
  if (name == "libx264" || name == "libx265") {
    av_opt_set(ctx_->priv_data, "preset", cfg.preset.c_str(), 0);
    av_opt_set_double(ctx_->priv_data, "crf", cfg.crf, 0);
    if (name == "libx265") av_opt_set(ctx_->priv_data, "x265-params", "log-level=error", 0);
  } else if (name == "mjpeg") {
    ctx_->flags |= AV_CODEC_FLAG_QSCALE;
    ctx_->global_quality = FF_QP2LAMBDA * 2;  // visually lossless JPEG
  } else {
    apply_encoder_options(ctx_.get(), cfg);  // NVENC, AV1 (io/encoder_select.h)
  }
  av_check(avcodec_open2(ctx_.get(), codec, nullptr),
           "cannot open the " + name + " encoder (" + std::to_string(cfg.width) + "x" + std::to_string(cfg.height) +
               ", " + av_get_pix_fmt_name(ctx_->pix_fmt) + ")",
           ErrorCode::usage);
}

void Encoder::send(const AVFrame* frame) {
  const int rc = avcodec_send_frame(ctx_.get(), frame);
  if (rc == AVERROR_EOF) return;
  av_check(rc, std::string("encoding with ") + ctx_->codec->name);
}

bool Encoder::receive(AVPacket* pkt) {
  const int rc = avcodec_receive_packet(ctx_.get(), pkt);
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return false;
  av_check(rc, std::string("encoding with ") + ctx_->codec->name);
  return true;
}

}  // namespace upscaled::io
