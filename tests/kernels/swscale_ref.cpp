#include "swscale_ref.h"

extern "C" {
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <stdexcept>
#include <string>

namespace upscaled::kernels::test {
namespace {

AVPixelFormat to_av(PixelLayout l) {
  switch (l) {
    case PixelLayout::yuv420p:
      return AV_PIX_FMT_YUV420P;
    case PixelLayout::nv12:
      return AV_PIX_FMT_NV12;
    case PixelLayout::yuv420p10:
      return AV_PIX_FMT_YUV420P10LE;
    case PixelLayout::p010:
      return AV_PIX_FMT_P010LE;
    case PixelLayout::yuv422p:
      return AV_PIX_FMT_YUV422P;
    case PixelLayout::yuv444p:
      return AV_PIX_FMT_YUV444P;
    case PixelLayout::yuv444p10:
      return AV_PIX_FMT_YUV444P10LE;
    case PixelLayout::rgb24:
      return AV_PIX_FMT_RGB24;
    case PixelLayout::bgr24:
      return AV_PIX_FMT_BGR24;
    case PixelLayout::gray8:
      return AV_PIX_FMT_GRAY8;
    case PixelLayout::gray10:
      return AV_PIX_FMT_GRAY10LE;
  }
  return AV_PIX_FMT_NONE;
}

int sws_matrix(ColorMatrix m) {
  switch (m) {
    case ColorMatrix::bt601:
      return SWS_CS_ITU601;
    case ColorMatrix::bt709:
      return SWS_CS_ITU709;
    case ColorMatrix::bt2020ncl:
      return SWS_CS_BT2020;
  }
  return SWS_CS_DEFAULT;
}

struct SwsDeleter {
  void operator()(SwsContext* c) const { sws_freeContext(c); }
};
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

SwsPtr make_ctx(int w, int h, AVPixelFormat src, AVPixelFormat dst, const ColorSpec& spec, bool src_yuv) {
  const int flags = SWS_POINT | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP | SWS_BITEXACT;
  SwsPtr c(sws_getContext(w, h, src, w, h, dst, flags, nullptr, nullptr, nullptr));
  if (!c) throw std::runtime_error("sws_getContext failed");
  int *inv = nullptr, *tab = nullptr, sr = 0, dr = 0, bri = 0, con = 0, sat = 0;
  sws_getColorspaceDetails(c.get(), &inv, &sr, &tab, &dr, &bri, &con, &sat);
  const int* coeffs = sws_getCoefficients(sws_matrix(spec.matrix));
  const int yuv_full = spec.range == ColorRange::full ? 1 : 0;
  if (sws_setColorspaceDetails(c.get(), coeffs, src_yuv ? yuv_full : 1, coeffs, src_yuv ? 1 : yuv_full, bri, con, sat) <
      0)
    throw std::runtime_error("sws_setColorspaceDetails failed");
  return c;
}

}  // namespace

std::vector<std::uint16_t> sws_to_rgb48(const HostFrame& frame, const ColorSpec& spec) {
  const int w = frame.width, h = frame.height;
  SwsPtr c = make_ctx(w, h, to_av(frame.layout), AV_PIX_FMT_RGB48LE, spec, true);
  std::vector<std::uint16_t> out(static_cast<size_t>(w) * h * 3 + 32);
  const FrameView v = frame.view();
  const std::uint8_t* src[4] = {v.data[0], v.data[1], v.data[2], nullptr};
  const int src_stride[4] = {static_cast<int>(v.pitch[0]), static_cast<int>(v.pitch[1]), static_cast<int>(v.pitch[2]),
                             0};
  std::uint8_t* dst[4] = {reinterpret_cast<std::uint8_t*>(out.data()), nullptr, nullptr, nullptr};
  const int dst_stride[4] = {w * 6, 0, 0, 0};
  sws_scale(c.get(), src, src_stride, 0, h, dst, dst_stride);
  out.resize(static_cast<size_t>(w) * h * 3);
  return out;
}

void sws_from_rgb48(const std::vector<std::uint16_t>& rgb48, const ColorSpec& spec, HostFrame& frame) {
  const int w = frame.width, h = frame.height;
  SwsPtr c = make_ctx(w, h, AV_PIX_FMT_RGB48LE, to_av(frame.layout), spec, false);
  const std::uint8_t* src[4] = {reinterpret_cast<const std::uint8_t*>(rgb48.data()), nullptr, nullptr, nullptr};
  const int src_stride[4] = {w * 6, 0, 0, 0};
  MutableFrameView v = frame.mview();
  std::uint8_t* dst[4] = {v.data[0], v.data[1], v.data[2], nullptr};
  const int dst_stride[4] = {static_cast<int>(v.pitch[0]), static_cast<int>(v.pitch[1]), static_cast<int>(v.pitch[2]),
                             0};
  sws_scale(c.get(), src, src_stride, 0, h, dst, dst_stride);
}

}  // namespace upscaled::kernels::test
