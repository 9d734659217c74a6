// --skip-duplicates: decides which frames of a batch go through the network and which repeat
// the last picture that did, then hands out the outputs in batch order.
//
// Contract: select() and assemble() are each called by one thread, batches in order; they
// may be different threads (the GPU path selects in its preprocess stage and assembles in its
// postprocess stage, batches later): select() keeps the comparison reference, assemble()
// the last picture, and the batch's Selection travels between them. skipped() is read after
// both threads finished.
// Frames are compared by small luma thumbnails (kernels/grayscale.h) that the caller makes
// on its own backend; the difference is the mean absolute luma difference in [0, 1]. A frame
// is compared with the last frame that went through the network, never with the previous
// skipped one, so slow drift cannot accumulate into a frozen picture. A skipped frame gets a
// new reference to the repeated picture's buffers (no copy) with its own pts.
#pragma once

#include "io/av_handles.h"
#include "kernels/image_view.h"

#include <atomic>
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

  // Which frames of one batch run, and what every frame shows.
  struct Selection {
    std::vector<int> run;   // batch indices that go through the network, in order
    std::vector<int> from;  // per batch frame: index into `run` it shows; -1 = the last picture
  };

  // `thumb(i)` is frame i's thumbnail (host memory, thumb_width x thumb_height), or a view
  // with null data for a frame that cannot be compared (it runs and resets the reference).
  Selection select(int n, const std::function<kernels::PlaneView<const float>(int)>& thumb);
  // `outputs`: one picture per selected frame, in selection.run's order; `pts`: every frame's
  // timestamp. Returns one picture per frame.
  std::vector<io::FramePtr> assemble(const Selection& selection, std::vector<io::FramePtr> outputs,
                                     const std::vector<std::int64_t>& pts);

  std::int64_t skipped() const { return skipped_.load(); }

 private:
  double threshold_;
  int thumb_w_, thumb_h_;
  std::vector<float> reference_;  // thumbnail of the last frame that ran
  bool have_reference_ = false;
  io::FramePtr last_;  // the last picture the network made (a reference); assemble() only
  std::atomic<std::int64_t> skipped_{0};
};

}  // namespace upscaled::pipeline
