// Pixel layouts and colour descriptions known to kernels/: the project's own small enums,
// so that nothing here depends on FFmpeg (io/ maps AVPixelFormat / AVColorSpace onto these).
//
// A FrameView is a non-owning description of one picture: up to three planes, each with its
// own pointer and row pitch in bytes. Plane order and sample packing per layout:
//   yuv420p / yuv422p / yuv444p : Y, U, V planes of uint8 (chroma subsampled 2x2 / 2x1 / 1x1)
//   yuv420p10 / yuv444p10       : Y, U, V planes of uint16 little-endian, value in the LOW 10 bits
//   nv12                        : Y plane (uint8), one interleaved UV plane (uint8 pairs), 2x2
//   p010                        : Y plane (uint16), interleaved UV (uint16 pairs), value in the
//                                 HIGH 10 bits (low 6 bits zero on output, ignored on input)
//   rgb24 / bgr24               : one packed plane of 3 x uint8 per pixel
//   gray8 / gray10              : one plane (uint8 / uint16 low bits); luma only
// Odd widths/heights: chroma planes are ceil(w / 2) (and ceil(h / 2)) samples, as in FFmpeg.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace upscaled::kernels {

enum class PixelLayout { yuv420p, nv12, yuv420p10, p010, yuv422p, yuv444p, yuv444p10, rgb24, bgr24, gray8, gray10 };

enum class ColorMatrix { bt601, bt709, bt2020ncl };
enum class ColorRange { limited, full };
// Where chroma samples sit relative to luma (subsampled layouts only):
//   left    : horizontally co-sited with even luma columns, vertically between rows (MPEG-2,
//             H.264/HEVC default for 4:2:0, and the usual 4:2:2 siting)
//   center  : centred between luma samples in both directions (MPEG-1 / JPEG)
//   topleft : co-sited with the even luma column and even luma row (BT.2020 "type 2")
enum class ChromaSiting { left, center, topleft };

struct ColorSpec {
  ColorMatrix matrix = ColorMatrix::bt709;
  ColorRange range = ColorRange::limited;
  ChromaSiting siting = ChromaSiting::left;
};

// Static facts about a layout, used by both backends.
struct LayoutInfo {
  int planes = 1;     // number of planes in FrameView::data
  bool yuv = false;   // Y'CbCr (true) or RGB / gray (false)
  bool gray = false;  // luma only
  bool interleaved_uv = false;
  bool packed_rgb = false;  // rgb24 / bgr24
  bool bgr = false;
  int chroma_shift_x = 0;  // log2 horizontal subsampling
  int chroma_shift_y = 0;  // log2 vertical subsampling
  int bits = 8;            // significant bits per sample
  int bytes = 1;           // bytes per sample (1 or 2)
  int msb_shift = 0;       // left shift of the value inside its word (p010: 6)
};

constexpr LayoutInfo layout_info(PixelLayout l) {
  LayoutInfo i;
  switch (l) {
    case PixelLayout::yuv420p:
      i = {3, true, false, false, false, false, 1, 1, 8, 1, 0};
      break;
    case PixelLayout::nv12:
      i = {2, true, false, true, false, false, 1, 1, 8, 1, 0};
      break;
    case PixelLayout::yuv420p10:
      i = {3, true, false, false, false, false, 1, 1, 10, 2, 0};
      break;
    case PixelLayout::p010:
      i = {2, true, false, true, false, false, 1, 1, 10, 2, 6};
      break;
    case PixelLayout::yuv422p:
      i = {3, true, false, false, false, false, 1, 0, 8, 1, 0};
      break;
    case PixelLayout::yuv444p:
      i = {3, true, false, false, false, false, 0, 0, 8, 1, 0};
      break;
    case PixelLayout::yuv444p10:
      i = {3, true, false, false, false, false, 0, 0, 10, 2, 0};
      break;
    case PixelLayout::rgb24:
      i = {1, false, false, false, true, false, 0, 0, 8, 1, 0};
      break;
    case PixelLayout::bgr24:
      i = {1, false, false, false, true, true, 0, 0, 8, 1, 0};
      break;
    case PixelLayout::gray8:
      i = {1, false, true, false, false, false, 0, 0, 8, 1, 0};
      break;
    case PixelLayout::gray10:
      i = {1, false, true, false, false, false, 0, 0, 10, 2, 0};
      break;
  }
  return i;
}

inline constexpr PixelLayout kAllLayouts[] = {PixelLayout::yuv420p,   PixelLayout::nv12,    PixelLayout::yuv420p10,
                                              PixelLayout::p010,      PixelLayout::yuv422p, PixelLayout::yuv444p,
                                              PixelLayout::yuv444p10, PixelLayout::rgb24,   PixelLayout::bgr24,
                                              PixelLayout::gray8,     PixelLayout::gray10};

const char* layout_name(PixelLayout l);
const char* matrix_name(ColorMatrix m);
const char* range_name(ColorRange r);
const char* siting_name(ChromaSiting s);
// Throws std::invalid_argument naming the unknown value.
PixelLayout parse_layout(std::string_view name);

// Width/height of plane `p` for a picture of w x h in `layout`.
struct PlaneSize {
  int width = 0;  // in samples (pairs for an interleaved UV plane count as one sample)
  int height = 0;
  int row_bytes = 0;  // bytes one row needs (the minimum pitch)
};
PlaneSize plane_size(PixelLayout layout, int width, int height, int plane);

template <typename Byte>
struct FrameViewT {
  PixelLayout layout = PixelLayout::yuv420p;
  int width = 0;
  int height = 0;
  Byte* data[3] = {nullptr, nullptr, nullptr};
  std::ptrdiff_t pitch[3] = {0, 0, 0};  // bytes
};
using FrameView = FrameViewT<const std::uint8_t>;   // a source picture
using MutableFrameView = FrameViewT<std::uint8_t>;  // a destination picture

inline FrameView as_const(const MutableFrameView& f) {
  return {f.layout, f.width, f.height, {f.data[0], f.data[1], f.data[2]}, {f.pitch[0], f.pitch[1], f.pitch[2]}};
}

// Throws std::invalid_argument when the view is unusable: non-positive size, a missing plane
// pointer, or a pitch smaller than the plane's row. `who` names the caller in the message.
template <typename Byte>
void validate_frame(const FrameViewT<Byte>& f, const char* who);

}  // namespace upscaled::kernels
