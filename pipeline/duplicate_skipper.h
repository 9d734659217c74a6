// --skip-duplicates: decides which frames of a batch go through the network and which repeat
// the last picture that did, then hands out the outputs in batch order.
//
// Contract: used by one frame upscaler on the upscale stage's thread (not thread-safe).
// Frames are compared by small luma thumbnails (kernels/grayscale.h) that the caller makes
// on its own backend; the difference is the mean absolute luma difference in [0, 1]. A frame
// is compared with the last frame that went through the network, never with the previous
// skipped one, so slow drift cannot accumulate into a frozen picture. A skipped frame gets a
// new reference to the repeated picture's buffers (no copy) with its own pts.
#pragma once

#include "io/av_handles.h"
#include "kernels/image_view.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace upscaled::pipeline {

// The default --skip-duplicates threshold: half an 8-bit code value of mean luma difference
// over a 64x36 thumbnail; encoder noise on a repeated frame stays below it, motion does not.
inline constexpr double kDefaultDuplicateThreshold = 0.002;

class DuplicateSkipper {
 public:
  // threshold <= 0: off (every frame runs). src_width/height: the decoded frame size.
  DuplicateSkipper(double threshold, int src_width, int src_height);

  bool enabled() const { return threshold_ > 0; }
  int thumb_width() const { return thumb_w_; }
  int thumb_height() const { return thumb_h_; }

  // `thumb(i)` is frame i's thumbnail (host memory, thumb_width x thumb_height), or a view
  // with null data for a frame that cannot be compared (it runs and resets the reference).
  // Returns the batch indices that must go through the network, in order.
  const std::vector<int>& select(int n, const std::function<kernels::PlaneView<const float>(int)>& thumb);
  // `outputs`: one picture per selected frame, in select()'s order; returns one per frame.
  std::vector<io::FramePtr> assemble(std::vector<io::FramePtr> outputs, const std::vector<io::FramePtr>& frames);

  std::int64_t skipped() const { return skipped_; }

 private:
  double threshold_;
  int thumb_w_, thumb_h_;
  std::vector<float> reference_;  // thumbnail of the last frame that ran
  bool have_reference_ = false;
  std::vector<int> run_;   // batch indices that run
  std::vector<int> from_;  // per batch frame: index into run_ it shows; -1 = last_
  io::FramePtr last_;      // the last picture the network made (a reference)
  std::int64_t skipped_ = 0;
};

}  // namespace upscaled::pipeline
