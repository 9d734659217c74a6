// --skip-duplicates bookkeeping: which frames run, what the others repeat, counts and pts.
#include "pipeline/duplicate_skipper.h"

#include <gtest/gtest.h>

#include <deque>

extern "C" {
#include <libavutil/frame.h>
}

namespace upscaled::pipeline {
namespace {

io::FramePtr picture(std::int64_t pts) {
  io::FramePtr f = io::make_frame();
  f->format = AV_PIX_FMT_GRAY8;
  f->width = 4;
  f->height = 4;
  EXPECT_EQ(av_frame_get_buffer(f.get(), 0), 0);
  f->pts = pts;
  return f;
}

// Feeds frames whose thumbnails are uniform at `levels`, in batches of `batch`; returns the
// outputs. Each frame that runs gets a fresh picture whose first byte is its index.
// Runs `levels` (one thumbnail level per frame) through `s` in batches. `lag`: batches
// selected ahead of the one being assembled, as the GPU path's stages do (0 = in step).
std::vector<io::FramePtr> feed(DuplicateSkipper& s, const std::vector<float>& levels, int batch,
                               std::vector<int>* ran = nullptr, std::size_t lag = 0) {
  struct Pending {
    DuplicateSkipper::Selection selection;
    std::vector<io::FramePtr> outputs;
    std::vector<std::int64_t> pts;
  };
  std::deque<Pending> pending;
  std::vector<io::FramePtr> all;
  auto assemble_one = [&] {
    Pending& p = pending.front();
    for (auto& f : s.assemble(p.selection, std::move(p.outputs), p.pts)) all.push_back(std::move(f));
    pending.pop_front();
  };
  const int tw = s.thumb_width(), th = s.thumb_height();
  std::vector<float> thumbs;
  for (std::size_t start = 0; start < levels.size(); start += batch) {
    const int n = static_cast<int>(std::min<std::size_t>(batch, levels.size() - start));
    std::vector<io::FramePtr> frames;
    thumbs.assign(static_cast<std::size_t>(n) * tw * th, 0.f);
    for (int i = 0; i < n; ++i) {
      frames.push_back(picture(static_cast<std::int64_t>(start + i) * 10));
      std::fill_n(thumbs.begin() + static_cast<std::ptrdiff_t>(i) * tw * th, tw * th, levels[start + i]);
    }
    Pending p;
    p.selection = s.select(n, [&](int i) -> kernels::PlaneView<const float> {
      return {thumbs.data() + static_cast<std::size_t>(i) * tw * th, tw, th,
              static_cast<std::ptrdiff_t>(tw * sizeof(float))};
    });
    for (int i : p.selection.run) {
      io::FramePtr out = picture(frames[i]->pts);
      out->data[0][0] = static_cast<std::uint8_t>(start + i);
      p.outputs.push_back(std::move(out));
      if (ran) ran->push_back(static_cast<int>(start + i));
    }
    for (const auto& f : frames) p.pts.push_back(f->pts);
    pending.push_back(std::move(p));
    if (pending.size() > lag) assemble_one();
  }
  while (!pending.empty()) assemble_one();
  return all;
}

TEST(DuplicateSkipper, RepeatsRunsOfIdenticalFramesAcrossBatches) {
  DuplicateSkipper s(kDefaultDuplicateThreshold, 160, 90);
  EXPECT_EQ(s.thumb_width(), 64);
  EXPECT_EQ(s.thumb_height(), 36);
  // A A A B B B B C: 5 repeats; batches of 3 split the runs.
  const std::vector<float> levels{0.1f, 0.1f, 0.1f, 0.5f, 0.5f, 0.5f, 0.5f, 0.9f};
  std::vector<int> ran;
  const auto out = feed(s, levels, 3, &ran);
  EXPECT_EQ(ran, (std::vector<int>{0, 3, 7}));
  EXPECT_EQ(s.skipped(), 5);
  ASSERT_EQ(out.size(), levels.size());
  const int shows[] = {0, 0, 0, 3, 3, 3, 3, 7};
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i]->pts, static_cast<std::int64_t>(i) * 10) << i;
    EXPECT_EQ(static_cast<int>(out[i]->data[0][0]), shows[i]) << "frame " << i << " shows the wrong picture";
  }
  // Repeats share the picture's buffers instead of copying them.
  EXPECT_EQ(out[1]->data[0], out[0]->data[0]);
  EXPECT_EQ(out[6]->data[0], out[3]->data[0]);
}

TEST(DuplicateSkipper, SelectingBatchesAheadOfAssemblingGivesTheSameFrames) {
  // The GPU path selects up to a few batches before the first is assembled; batches of 2
  // make the next batch open with repeats of the previous batch's last picture.
  const std::vector<float> levels{0.1f, 0.5f, 0.5f, 0.5f, 0.9f, 0.9f, 0.9f, 0.2f, 0.2f};
  DuplicateSkipper in_step(kDefaultDuplicateThreshold, 160, 90), ahead(kDefaultDuplicateThreshold, 160, 90);
  const auto a = feed(in_step, levels, 2);
  const auto b = feed(ahead, levels, 2, nullptr, 3);
  ASSERT_EQ(a.size(), levels.size());
  ASSERT_EQ(b.size(), levels.size());
  EXPECT_EQ(ahead.skipped(), 5);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i]->pts, a[i]->pts) << i;
    EXPECT_EQ(b[i]->data[0][0], a[i]->data[0][0]) << "frame " << i;
  }
}

TEST(DuplicateSkipper, ComparesWithTheLastFrameThatRanSoDriftCannotAccumulate) {
  DuplicateSkipper s(0.002, 64, 36);
  // Each step is below the threshold, two steps are above it.
  std::vector<float> levels;
  for (int i = 0; i < 8; ++i) levels.push_back(0.3f + 0.0015f * i);
  std::vector<int> ran;
  feed(s, levels, 4, &ran);
  EXPECT_EQ(ran, (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(s.skipped(), 4);
}

TEST(DuplicateSkipper, OffRunsEverything) {
  DuplicateSkipper s(0, 64, 36);
  EXPECT_FALSE(s.enabled());
  std::vector<int> ran;
  const auto out = feed(s, std::vector<float>(6, 0.5f), 4, &ran);
  EXPECT_EQ(ran.size(), 6u);
  EXPECT_EQ(s.skipped(), 0);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(static_cast<std::size_t>(out[i]->data[0][0]), i);
}

TEST(DuplicateSkipper, AFrameThatCannotBeComparedRunsAndResetsTheReference) {
  DuplicateSkipper s(0.002, 64, 36);
  std::vector<float> thumb(64 * 36, 0.5f);
  std::vector<io::FramePtr> frames;
  for (int i = 0; i < 3; ++i) frames.push_back(picture(i));
  const auto selection = s.select(3, [&](int i) -> kernels::PlaneView<const float> {
    if (i == 1) return {};
    return {thumb.data(), 64, 36, static_cast<std::ptrdiff_t>(64 * sizeof(float))};
  });
  EXPECT_EQ(selection.run, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(s.skipped(), 0);
}

TEST(DuplicateSkipper, SmallFramesGetThumbnailsNoLargerThanThemselves) {
  DuplicateSkipper s(0.002, 32, 18);
  EXPECT_EQ(s.thumb_width(), 32);
  EXPECT_EQ(s.thumb_height(), 18);
}

}  // namespace
}  // namespace upscaled::pipeline
