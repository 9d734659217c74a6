#include "kernels/pixel_format.h"

#include <stdexcept>
#include <string>

namespace upscaled::kernels {

const char* layout_name(PixelLayout l) {
  switch (l) {
    case PixelLayout::yuv420p:
      return "yuv420p";
    case PixelLayout::nv12:
      return "nv12";
    case PixelLayout::yuv420p10:
      return "yuv420p10";
    case PixelLayout::p010:
      return "p010";
    case PixelLayout::yuv422p:
      return "yuv422p";
    case PixelLayout::yuv444p:
      return "yuv444p";
    case PixelLayout::yuv444p10:
      return "yuv444p10";
    case PixelLayout::rgb24:
      return "rgb24";
    case PixelLayout::bgr24:
      return "bgr24";
    case PixelLayout::gray8:
      return "gray8";
    case PixelLayout::gray10:
      return "gray10";
  }
  return "?";
}

const char* matrix_name(ColorMatrix m) {
  switch (m) {
    case ColorMatrix::bt601:
      return "bt601";
    case ColorMatrix::bt709:
      return "bt709";
    case ColorMatrix::bt2020ncl:
      return "bt2020ncl";
  }
  return "?";
}

const char* range_name(ColorRange r) {
  return r == ColorRange::full ? "full" : "limited";
}

const char* siting_name(ChromaSiting s) {
  switch (s) {
    case ChromaSiting::left:
      return "left";
    case ChromaSiting::center:
      return "center";
    case ChromaSiting::topleft:
      return "topleft";
  }
  return "?";
}

PixelLayout parse_layout(std::string_view name) {
  for (PixelLayout l : kAllLayouts)
    if (name == layout_name(l)) return l;
  throw std::invalid_argument("unknown pixel layout '" + std::string(name) + "'");
}

PlaneSize plane_size(PixelLayout layout, int width, int height, int plane) {
  const LayoutInfo li = layout_info(layout);
  if (plane < 0 || plane >= li.planes) return {};
  if (li.packed_rgb) return {width, height, width * 3};
  if (plane == 0) return {width, height, width * li.bytes};
  const int cw = (width + (1 << li.chroma_shift_x) - 1) >> li.chroma_shift_x;
  const int ch = (height + (1 << li.chroma_shift_y) - 1) >> li.chroma_shift_y;
  return {cw, ch, cw * li.bytes * (li.interleaved_uv ? 2 : 1)};
}

template <typename Byte>
void validate_frame(const FrameViewT<Byte>& f, const char* who) {
  const std::string prefix = std::string(who) + ": " + layout_name(f.layout) + " " + std::to_string(f.width) + "x" +
                             std::to_string(f.height) + ": ";
  if (f.width <= 0 || f.height <= 0) throw std::invalid_argument(prefix + "empty picture");
  const LayoutInfo li = layout_info(f.layout);
  for (int p = 0; p < li.planes; ++p) {
    const PlaneSize ps = plane_size(f.layout, f.width, f.height, p);
    if (f.data[p] == nullptr) throw std::invalid_argument(prefix + "plane " + std::to_string(p) + " is null");
    if (f.pitch[p] < ps.row_bytes)
      throw std::invalid_argument(prefix + "plane " + std::to_string(p) + " pitch " + std::to_string(f.pitch[p]) +
                                  " < row size " + std::to_string(ps.row_bytes));
  }
}

template void validate_frame(const FrameViewT<const std::uint8_t>&, const char*);
template void validate_frame(const FrameViewT<std::uint8_t>&, const char*);

}  // namespace upscaled::kernels
