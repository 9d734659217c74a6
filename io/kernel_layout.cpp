#include "io/kernel_layout.h"

namespace upscaled::io {

std::optional<kernels::PixelLayout> kernel_layout(AVPixelFormat format) {
  using L = kernels::PixelLayout;
  switch (format) {
    case AV_PIX_FMT_YUV420P:
    case AV_PIX_FMT_YUVJ420P:
      return L::yuv420p;
    case AV_PIX_FMT_NV12:
      return L::nv12;
    case AV_PIX_FMT_YUV420P10LE:
      return L::yuv420p10;
    case AV_PIX_FMT_P010LE:
      return L::p010;
    case AV_PIX_FMT_YUV422P:
    case AV_PIX_FMT_YUVJ422P:
      return L::yuv422p;
    case AV_PIX_FMT_YUV444P:
    case AV_PIX_FMT_YUVJ444P:
      return L::yuv444p;
    case AV_PIX_FMT_YUV444P10LE:
      return L::yuv444p10;
    case AV_PIX_FMT_RGB24:
      return L::rgb24;
    case AV_PIX_FMT_BGR24:
      return L::bgr24;
    case AV_PIX_FMT_GRAY8:
      return L::gray8;
    case AV_PIX_FMT_GRAY10LE:
      return L::gray10;
    default:
      return std::nullopt;
  }
}

kernels::ColorSpec kernel_color(const ColorInfo& color, AVChromaLocation location) {
  kernels::ColorSpec spec;
  switch (color.matrix) {
    case AVCOL_SPC_BT709:
      spec.matrix = kernels::ColorMatrix::bt709;
      break;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      spec.matrix = kernels::ColorMatrix::bt2020ncl;
      break;
    default:
      spec.matrix = kernels::ColorMatrix::bt601;
      break;
  }
  spec.range = color.range == AVCOL_RANGE_JPEG ? kernels::ColorRange::full : kernels::ColorRange::limited;
  switch (location) {
    case AVCHROMA_LOC_CENTER:
      spec.siting = kernels::ChromaSiting::center;
      break;
    case AVCHROMA_LOC_TOPLEFT:
      spec.siting = kernels::ChromaSiting::topleft;
      break;
    default:
      spec.siting = kernels::ChromaSiting::left;
      break;
  }
  return spec;
}

kernels::FrameView kernel_view(const AVFrame* frame, kernels::PixelLayout layout) {
  kernels::FrameView v;
  v.layout = layout;
  v.width = frame->width;
  v.height = frame->height;
  for (int p = 0; p < 3; ++p) {
    v.data[p] = frame->data[p];
    v.pitch[p] = frame->linesize[p];
  }
  return v;
}

}  // namespace upscaled::io
