// Conversion between decoded/encoder frames and planar RGB float in [0, 1] (the models'
// format), through swscale with the frame's own matrix and range.
//
// Contract: synchronous; one converter per thread (swscale contexts are cached inside and
// are not shared). Float planes are caller-owned, contiguous rows of `width` floats.
// FrameToRgb also rescales frames whose size differs from the first one (a mid-stream
// resolution change) to the size it was built for, so that the encoder sees one size.
#pragma once

#include "io/av_handles.h"

namespace upscaled::io {

struct ColorInfo {
  AVColorSpace matrix = AVCOL_SPC_UNSPECIFIED;
  AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
};

// What a player would assume for an untagged frame: BT.601 below 720 lines, BT.709 above;
// limited range unless the format is a full-range (JPEG) one.
ColorInfo effective_color(AVColorSpace matrix, AVColorRange range, AVPixelFormat format, int height);

class FrameToRgb {
 public:
  FrameToRgb(int width, int height) : width_(width), height_(height) {}
  // planes: R, G, B, each width*height floats.
  void convert(const AVFrame* frame, float* r, float* g, float* b);

 private:
  int width_, height_;
  SwsPtr sws_;
};

class RgbToFrame {
 public:
  // `frame` must be allocated with the encoder's format and size (av_frame_get_buffer).
  RgbToFrame(const ColorInfo& target) : target_(target) {}
  // Planes of src_width x src_height; only the top-left frame->width x frame->height part is
  // used, so an odd size can be cropped to what a 4:2:0 encoder accepts.
  void convert(const float* r, const float* g, const float* b, int src_width, int src_height, AVFrame* frame);

 private:
  ColorInfo target_;
  SwsPtr sws_;
};

}  // namespace upscaled::io
