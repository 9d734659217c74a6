// Frame geometry of a job: what the network is fed, what it returns, and how its output is
// resampled, padded or cropped into the encoder's picture. One planner for both frame paths,
// so that the CPU and the GPU path cannot disagree about sizes.
//
// Contract: pure functions of their arguments (no I/O, no logging, thread-safe). Throws
// upscaled::Error (ErrorCode::usage) for a target the encoder cannot take (a size below 2x2
// or above 16384x16384 after --outscale), with a one-line message naming the option.
//
// After the network, the model output (model_width x model_height) is resized to the
// picture (picture_width x picture_height), drawn at (picture_x, picture_y) on a canvas
// (canvas_width x canvas_height, black elsewhere: the --fit pad bars); the encoder gets the
// canvas window at (window_x, window_y) of out_width x out_height (--fit crop, or dropping an
// odd last row/column for 4:2:0). Without a post-resize the canvas is the model output.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace upscaled::pipeline {

enum class Fit { stretch, pad, crop };
// Throws upscaled::Error (usage) for anything but stretch, pad, crop.
Fit parse_fit(const std::string& text);
const char* fit_name(Fit fit);

struct GeometryOptions {
  double outscale = 0;                      // --outscale F; 0 = unset
  std::optional<std::pair<int, int>> size;  // --size WxH
  Fit fit = Fit::stretch;                   // --fit, with --size only
  bool pre_resize = true;                   // --pre-resize auto (true) | never
};

struct FramePlan {
  int src_width = 0, src_height = 0;      // decoded frames (the first frame's size)
  int net_width = 0, net_height = 0;      // network input: src, or smaller (pre-resize)
  int scale = 1;                          // the model's factor
  int model_width = 0, model_height = 0;  // network output: net * scale
  int picture_width = 0, picture_height = 0, picture_x = 0, picture_y = 0;
  int canvas_width = 0, canvas_height = 0;
  int window_x = 0, window_y = 0;
  int out_width = 0, out_height = 0;  // encoder size
  int sar_num = 0, sar_den = 1;       // output pixel aspect; 0/1 = leave untagged

  bool pre_resize() const { return net_width != src_width || net_height != src_height; }
  // False when the encoder's picture is a window of the model output as it is.
  bool post_resize() const {
    return picture_width != model_width || picture_height != model_height || canvas_width != picture_width ||
           canvas_height != picture_height;
  }
  bool padded() const { return canvas_width != picture_width || canvas_height != picture_height; }
};

// The scale to ask the model for: -s when given, else the smallest of 2, 3, 4, 8 that reaches
// the wanted picture (--outscale or --size); 0 (the model's own) when nothing asks.
int wanted_scale(const GeometryOptions& opt, int model_scale_option, int src_width, int src_height, int sar_num,
                 int sar_den);

// `needs_even`: the encoder's format subsamples chroma (4:2:0), so sizes and pad offsets are
// kept even. sar_num/sar_den: the input's pixel aspect (0/x when unknown).
FramePlan plan_frames(const GeometryOptions& opt, int src_width, int src_height, int sar_num, int sar_den, int scale,
                      bool needs_even);

// One line for the log: the network's input and the resampling after it.
std::string describe(const FramePlan& plan, Fit fit);

}  // namespace upscaled::pipeline
