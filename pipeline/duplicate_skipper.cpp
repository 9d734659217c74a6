#include "pipeline/duplicate_skipper.h"

#include "core/error.h"
#include "kernels/grayscale.h"

#include <algorithm>

extern "C" {
#include <libavutil/frame.h>
}

namespace upscaled::pipeline {
namespace {

io::FramePtr new_reference(const AVFrame* picture, std::int64_t pts) {
  io::FramePtr f(av_frame_clone(picture));
  if (!f) throw Error(ErrorCode::internal, "out of memory repeating a duplicate frame");
  f->pts = pts;
  return f;
}

}  // namespace

DuplicateSkipper::DuplicateSkipper(double threshold, int src_width, int src_height)
    : threshold_(threshold), thumb_w_(std::min(64, src_width)), thumb_h_(std::min(36, src_height)) {}

DuplicateSkipper::Selection DuplicateSkipper::select(int n,
                                                     const std::function<kernels::PlaneView<const float>(int)>& thumb) {
  Selection sel;
  std::vector<int>& run = sel.run;
  std::vector<int>& from = sel.from;
  from.assign(n, -1);
  for (int i = 0; i < n; ++i) {
    if (enabled()) {
      const kernels::PlaneView<const float> t = thumb(i);
      if (!t.data) {  // a frame the caller cannot compare (format or size change): it runs
        have_reference_ = false;
        from[i] = static_cast<int>(run.size());
        run.push_back(i);
        continue;
      }
      const kernels::PlaneView<const float> ref{reference_.data(), thumb_w_, thumb_h_,
                                                static_cast<std::ptrdiff_t>(thumb_w_ * sizeof(float))};
      if (have_reference_ && kernels::thumbnail_difference(t, ref).mean_abs < threshold_) {
        from[i] = run.empty() ? -1 : static_cast<int>(run.size()) - 1;
        ++skipped_;
        continue;
      }
      reference_.resize(static_cast<std::size_t>(thumb_w_) * thumb_h_);
      for (int y = 0; y < thumb_h_; ++y) std::copy_n(t.row(y), thumb_w_, reference_.data() + y * thumb_w_);
      have_reference_ = true;
    }
    from[i] = static_cast<int>(run.size());
    run.push_back(i);
  }
  return sel;
}

std::vector<io::FramePtr> DuplicateSkipper::assemble(const Selection& sel, std::vector<io::FramePtr> outputs,
                                                     const std::vector<std::int64_t>& pts) {
  const std::vector<int>& run = sel.run;
  if (sel.from.size() != pts.size() || outputs.size() != run.size())
    throw Error(ErrorCode::internal, "--skip-duplicates: a batch's pictures do not match its selection");
  std::vector<io::FramePtr> result;
  result.reserve(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const int from = sel.from[i];
    if (from >= 0 && run[from] == static_cast<int>(i)) {
      result.push_back(std::move(outputs[from]));
    } else {
      // Earlier entries of `result` may already own outputs[from]; the run index finds it.
      const AVFrame* picture = from < 0 ? last_.get() : result[run[from]].get();
      if (!picture) throw Error(ErrorCode::internal, "--skip-duplicates: a repeated frame has no picture to repeat");
      result.push_back(new_reference(picture, pts[i]));
    }
  }
  // The next batch may open with repeats of this batch's last picture.
  if (enabled() && !run.empty()) last_ = new_reference(result[run.back()].get(), result[run.back()]->pts);
  return result;
}

}  // namespace upscaled::pipeline
