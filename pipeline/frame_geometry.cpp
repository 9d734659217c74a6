#include "pipeline/frame_geometry.h"

#include "core/error.h"
#include "core/log.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace upscaled::pipeline {
namespace {

constexpr int kMaxSide = 16384;

int even(int v, bool needs_even) {
  return std::max(2, needs_even ? v & ~1 : v);
}

// The input's display width in square pixels (its height stays).
double display_width(int src_width, int sar_num, int sar_den) {
  return sar_num > 0 && sar_den > 0 ? static_cast<double>(src_width) * sar_num / sar_den : src_width;
}

struct Target {
  int picture_w = 0, picture_h = 0;  // what the model output is resized to
  int out_w = 0, out_h = 0;          // encoder size before even rounding (stretch, default)
};

// The picture and output sizes the options ask for; `model_w/h` is the default output.
Target target(const GeometryOptions& opt, int w, int h, int sar_num, int sar_den, int model_w, int model_h,
              bool needs_even) {
  Target t;
  if (opt.outscale > 0) {
    const double pw = std::round(w * opt.outscale), ph = std::round(h * opt.outscale);
    if (pw < 2 || ph < 2 || pw > kMaxSide || ph > kMaxSide)
      throw Error(ErrorCode::usage, log::cat("--outscale ", opt.outscale, ": ", w, "x", h, " would become ", pw, "x",
                                             ph, "; the output must be between 2x2 and 16384x16384"));
    t.picture_w = t.out_w = static_cast<int>(pw);
    t.picture_h = t.out_h = static_cast<int>(ph);
    return t;
  }
  if (!opt.size) {
    t.picture_w = t.out_w = model_w;
    t.picture_h = t.out_h = model_h;
    return t;
  }
  const auto [W, H] = *opt.size;
  if (opt.fit == Fit::stretch) {
    t.picture_w = t.out_w = W;
    t.picture_h = t.out_h = H;
    return t;
  }
  // pad / crop: square output pixels, the input's display aspect kept.
  const int cw = even(W, needs_even), ch = even(H, needs_even);
  const double dw = display_width(w, sar_num, sar_den);
  const double s = opt.fit == Fit::pad ? std::min(cw / dw, ch / static_cast<double>(h))
                                       : std::max(cw / dw, ch / static_cast<double>(h));
  t.picture_w = static_cast<int>(std::lround(dw * s));
  t.picture_h = static_cast<int>(std::lround(h * s));
  if (opt.fit == Fit::pad) {
    t.picture_w = std::min(cw, even(t.picture_w, needs_even));
    t.picture_h = std::min(ch, even(t.picture_h, needs_even));
  } else {
    t.picture_w = std::max(cw, t.picture_w);
    t.picture_h = std::max(ch, t.picture_h);
  }
  t.out_w = cw;
  t.out_h = ch;
  return t;
}

}  // namespace

Fit parse_fit(const std::string& text) {
  if (text == "stretch") return Fit::stretch;
  if (text == "pad") return Fit::pad;
  if (text == "crop") return Fit::crop;
  throw Error(ErrorCode::usage, "--fit '" + text + "': expected stretch, pad or crop");
}

const char* fit_name(Fit fit) {
  switch (fit) {
    case Fit::pad:
      return "pad";
    case Fit::crop:
      return "crop";
    default:
      return "stretch";
  }
}

int wanted_scale(const GeometryOptions& opt, int model_scale_option, int w, int h, int sar_num, int sar_den) {
  if (model_scale_option > 0 || (!opt.size && opt.outscale <= 0)) return model_scale_option;
  const Target t = target(opt, w, h, sar_num, sar_den, w, h, false);
  const double need = std::max(static_cast<double>(t.picture_w) / w, static_cast<double>(t.picture_h) / h);
  for (int s : {2, 3, 4, 8})
    if (s >= need - 1e-9) return s;
  return 8;
}

FramePlan plan_frames(const GeometryOptions& opt, int w, int h, int sar_num, int sar_den, int scale, bool needs_even) {
  FramePlan p;
  p.src_width = w;
  p.src_height = h;
  p.scale = scale;
  const Target t = target(opt, w, h, sar_num, sar_den, w * scale, h * scale, needs_even);

  // Pre-resize: when the network would produce more than the picture needs, feed it
  // ceil(picture / scale) instead: its output still covers the picture, so nothing visible
  // is lost, and it does (input / smaller)^2 less work.
  p.net_width = w;
  p.net_height = h;
  if (opt.pre_resize) {
    const int nw = (t.picture_w + scale - 1) / scale, nh = (t.picture_h + scale - 1) / scale;
    if (nw < w) p.net_width = nw;
    if (nh < h) p.net_height = nh;
  }
  p.model_width = p.net_width * scale;
  p.model_height = p.net_height * scale;

  p.out_width = even(t.out_w, needs_even);
  p.out_height = even(t.out_h, needs_even);
  p.picture_width = t.picture_w;
  p.picture_height = t.picture_h;
  if (opt.outscale > 0 && needs_even && (t.picture_w != p.model_width || t.picture_h != p.model_height)) {
    // Resample straight to the even size rather than resampling and dropping a pixel.
    p.picture_width = p.out_width;
    p.picture_height = p.out_height;
  }
  const bool pad = opt.size && opt.fit == Fit::pad && opt.outscale <= 0;
  if (pad) {
    p.canvas_width = p.out_width;
    p.canvas_height = p.out_height;
    p.picture_x = (p.canvas_width - p.picture_width) / 2;
    p.picture_y = (p.canvas_height - p.picture_height) / 2;
    if (needs_even) {  // bars on chroma sample boundaries
      p.picture_x &= ~1;
      p.picture_y &= ~1;
    }
  } else {
    p.canvas_width = p.picture_width;
    p.canvas_height = p.picture_height;
    p.window_x = (p.canvas_width - p.out_width) / 2;
    p.window_y = (p.canvas_height - p.out_height) / 2;
    if (!opt.size || opt.fit != Fit::crop) p.window_x = p.window_y = 0;  // odd crop: drop the last column/row
  }

  if (opt.size && opt.fit != Fit::stretch) {
    p.sar_num = 1;  // square pixels, said explicitly: the picture was made for them
    p.sar_den = 1;
  } else {
    // The display aspect stays the input's: with an exact --size the pixels change shape.
    const std::int64_t in_num = sar_num > 0 && sar_den > 0 ? sar_num : 1,
                       in_den = sar_num > 0 && sar_den > 0 ? sar_den : 1;
    std::int64_t num = in_num * w * p.out_height, den = in_den * h * p.out_width;
    const std::int64_t g = std::gcd(num, den);
    num /= g;
    den /= g;
    while (num > (1 << 30) || den > (1 << 30)) {  // never for real sizes; keep it representable
      num = (num + 1) / 2;
      den = (den + 1) / 2;
    }
    if (sar_num > 0 || num != den) {
      p.sar_num = static_cast<int>(num);
      p.sar_den = static_cast<int>(den);
    }
  }
  return p;
}

std::string describe(const FramePlan& p, Fit fit) {
  std::string s = log::cat("network ", p.net_width, "x", p.net_height, " -> ", p.model_width, "x", p.model_height);
  if (p.pre_resize()) s += log::cat(" (pre-resized from ", p.src_width, "x", p.src_height, ")");
  if (p.post_resize()) s += log::cat(", resampled to ", p.picture_width, "x", p.picture_height);
  if (p.padded()) s += log::cat(", padded to ", p.canvas_width, "x", p.canvas_height, " (", fit_name(fit), ")");
  if (p.window_x || p.window_y || p.out_width != p.canvas_width || p.out_height != p.canvas_height)
    s += log::cat(", cropped to ", p.out_width, "x", p.out_height);
  return s;
}

}  // namespace upscaled::pipeline
