#include "io/rgb_converter.h"

#include "io/av_error.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace upscaled::io {
namespace {

constexpr int kSwsFlags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP | SWS_BITEXACT;

bool is_rgb_like(AVPixelFormat fmt) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  return !d || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) || d->nb_components < 3;
}

bool is_full_range_format(AVPixelFormat fmt) {
  return fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P ||
         fmt == AV_PIX_FMT_YUVJ440P || fmt == AV_PIX_FMT_YUVJ411P;
}

}  // namespace

ColorInfo effective_color(AVColorSpace matrix, AVColorRange range, AVPixelFormat format, int height) {
  ColorInfo c{matrix, range};
  if (c.matrix == AVCOL_SPC_UNSPECIFIED || c.matrix == AVCOL_SPC_RESERVED)
    c.matrix = height >= 720 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
  if (c.range == AVCOL_RANGE_UNSPECIFIED)
    c.range = is_full_range_format(format) || is_rgb_like(format) ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  return c;
}

void FrameToRgb::convert(const AVFrame* frame, float* r, float* g, float* b) {
  const auto fmt = static_cast<AVPixelFormat>(frame->format);
  sws_.reset(sws_getCachedContext(sws_.release(), frame->width, frame->height, fmt, width_, height_, AV_PIX_FMT_GBRPF32,
                                  kSwsFlags, nullptr, nullptr, nullptr));
  if (!sws_) throw Error(ErrorCode::internal, std::string("no swscale conversion from ") + av_get_pix_fmt_name(fmt));
  if (!is_rgb_like(fmt)) {
    const ColorInfo c = effective_color(frame->colorspace, frame->color_range, fmt, frame->height);
    const int* coeffs = sws_getCoefficients(c.matrix);
    av_check(sws_setColorspaceDetails(sws_.get(), coeffs, c.range == AVCOL_RANGE_JPEG, coeffs, 1, 0, 1 << 16, 1 << 16),
             "setting the input colour matrix");
  }
  // swscale's planar GBR order: G, B, R.
  uint8_t* dst[4] = {reinterpret_cast<uint8_t*>(g), reinterpret_cast<uint8_t*>(b), reinterpret_cast<uint8_t*>(r),
                     nullptr};
  const int stride = width_ * static_cast<int>(sizeof(float));
  int dst_stride[4] = {stride, stride, stride, 0};
  av_check(sws_scale(sws_.get(), frame->data, frame->linesize, 0, frame->height, dst, dst_stride),
           "converting a frame to RGB");
}

void RgbToFrame::convert(const float* r, const float* g, const float* b, int src_width, int src_height,
                         AVFrame* frame) {
  (void)src_height;
  const auto fmt = static_cast<AVPixelFormat>(frame->format);
  sws_.reset(sws_getCachedContext(sws_.release(), frame->width, frame->height, AV_PIX_FMT_GBRPF32, frame->width,
                                  frame->height, fmt, kSwsFlags, nullptr, nullptr, nullptr));
  if (!sws_) throw Error(ErrorCode::internal, std::string("no swscale conversion to ") + av_get_pix_fmt_name(fmt));
  if (!is_rgb_like(fmt)) {
    const int* coeffs = sws_getCoefficients(target_.matrix);
    av_check(
        sws_setColorspaceDetails(sws_.get(), coeffs, 1, coeffs, target_.range == AVCOL_RANGE_JPEG, 0, 1 << 16, 1 << 16),
        "setting the output colour matrix");
  }
  const uint8_t* src[4] = {reinterpret_cast<const uint8_t*>(g), reinterpret_cast<const uint8_t*>(b),
                           reinterpret_cast<const uint8_t*>(r), nullptr};
  const int stride = src_width * static_cast<int>(sizeof(float));
  int src_stride[4] = {stride, stride, stride, 0};
  av_check(av_frame_make_writable(frame), "frame buffer");
  av_check(sws_scale(sws_.get(), src, src_stride, 0, frame->height, frame->data, frame->linesize),
           "converting RGB to the encoder's format");
}

}  // namespace upscaled::io
