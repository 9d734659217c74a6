// The frame planner: output sizes, pre-resize decisions, pad / crop placement and pixel aspect.
#include "pipeline/frame_geometry.h"
#include "core/error.h"

#include <gtest/gtest.h>

namespace upscaled::pipeline {
namespace {

GeometryOptions outscale(double f) {
  GeometryOptions o;
  o.outscale = f;
  return o;
}

GeometryOptions sized(int w, int h, Fit fit) {
  GeometryOptions o;
  o.size = std::make_pair(w, h);
  o.fit = fit;
  return o;
}

TEST(FrameGeometry, DefaultIsTheModelOutputWithAnOddPixelDropped) {
  const FramePlan p = plan_frames({}, 161, 91, 0, 1, 3, true);
  EXPECT_EQ(p.net_width, 161);
  EXPECT_EQ(p.model_width, 483);
  EXPECT_EQ(p.out_width, 482);
  EXPECT_EQ(p.out_height, 272);
  EXPECT_FALSE(p.pre_resize());
  EXPECT_FALSE(p.post_resize());
  EXPECT_EQ(p.window_x, 0);
  EXPECT_EQ(plan_frames({}, 160, 90, 0, 1, 3, true).sar_num, 0) << "untagged input stays untagged";
}

TEST(FrameGeometry, WantedScaleIsTheSmallestReachingTheTarget) {
  EXPECT_EQ(wanted_scale(outscale(1.5), 0, 160, 90, 0, 1), 2);
  EXPECT_EQ(wanted_scale(outscale(2.5), 0, 160, 90, 0, 1), 3);
  EXPECT_EQ(wanted_scale(outscale(3), 0, 160, 90, 0, 1), 3);
  EXPECT_EQ(wanted_scale(outscale(5), 0, 160, 90, 0, 1), 8);
  EXPECT_EQ(wanted_scale(outscale(2.5), 4, 160, 90, 0, 1), 4) << "-s wins";
  EXPECT_EQ(wanted_scale({}, 0, 160, 90, 0, 1), 0) << "nothing asks: the model's own";
  // pad fits inside (1.25x here), crop covers (2.22x).
  EXPECT_EQ(wanted_scale(sized(200, 200, Fit::pad), 0, 160, 90, 0, 1), 2);
  EXPECT_EQ(wanted_scale(sized(200, 200, Fit::crop), 0, 160, 90, 0, 1), 3);
}

TEST(FrameGeometry, OutscaleBelowTheModelScalePreResizes) {
  const FramePlan p = plan_frames(outscale(1.5), 160, 90, 0, 1, 2, true);
  EXPECT_EQ(p.out_width, 240);
  EXPECT_EQ(p.out_height, 134);  // 135 made even
  EXPECT_EQ(p.net_width, 120);   // ceil(240 / 2)
  EXPECT_EQ(p.net_height, 68);   // ceil(135 / 2)
  EXPECT_TRUE(p.pre_resize());
  EXPECT_EQ(p.picture_width, 240);
  EXPECT_EQ(p.picture_height, 134);
  EXPECT_TRUE(p.post_resize());
  EXPECT_FALSE(p.padded());

  GeometryOptions never = outscale(1.5);
  never.pre_resize = false;
  const FramePlan q = plan_frames(never, 160, 90, 0, 1, 2, true);
  EXPECT_EQ(q.net_width, 160);
  EXPECT_EQ(q.model_width, 320);
  EXPECT_EQ(q.out_width, 240);
}

TEST(FrameGeometry, OutscaleOnOddInputs) {
  const FramePlan p = plan_frames(outscale(2.5), 161, 91, 0, 1, 3, true);
  EXPECT_EQ(p.out_width, 402);  // round(402.5) = 403, made even
  EXPECT_EQ(p.out_height, 228);
  EXPECT_EQ(p.picture_width, 402);
  EXPECT_EQ(p.net_width, 135);  // ceil(403 / 3) < 161
  EXPECT_EQ(p.net_height, 76);  // ceil(228 / 3) < 91
  const FramePlan rgb = plan_frames(outscale(2.5), 161, 91, 0, 1, 3, false);
  EXPECT_EQ(rgb.out_width, 403) << "4:4:4 / RGB outputs keep odd sizes";
}

TEST(FrameGeometry, OutscaleEqualToTheScaleNeedsNoResampling) {
  const FramePlan p = plan_frames(outscale(2), 160, 90, 0, 1, 2, true);
  EXPECT_FALSE(p.pre_resize());
  EXPECT_FALSE(p.post_resize());
  EXPECT_EQ(p.out_width, 320);
}

TEST(FrameGeometry, PadCentresThePictureOnEvenOffsets) {
  const FramePlan p = plan_frames(sized(200, 200, Fit::pad), 160, 90, 0, 1, 2, true);
  EXPECT_EQ(p.out_width, 200);
  EXPECT_EQ(p.out_height, 200);
  EXPECT_EQ(p.canvas_width, 200);
  EXPECT_EQ(p.picture_width, 200);
  EXPECT_EQ(p.picture_height, 112);  // 112.5 made even
  EXPECT_EQ(p.picture_x, 0);
  EXPECT_EQ(p.picture_y, 44);
  EXPECT_TRUE(p.padded());
  EXPECT_EQ(p.net_width, 100);  // the picture needs 100x56 of input at x2
  EXPECT_EQ(p.net_height, 56);
  EXPECT_EQ(p.sar_num, 1);
  EXPECT_EQ(p.sar_den, 1);
}

TEST(FrameGeometry, PadUsesTheDisplayAspectAndTagsSquarePixels) {
  // 320x180 with 4:3 pixels is 426.7x180 on screen; inside 640x360 that is 640x270.
  const FramePlan p = plan_frames(sized(640, 360, Fit::pad), 320, 180, 4, 3, 2, true);
  EXPECT_EQ(p.picture_width, 640);
  EXPECT_EQ(p.picture_height, 270);
  EXPECT_EQ(p.picture_y, 44);  // (360 - 270) / 2 = 45, made even
  EXPECT_EQ(p.sar_num, 1);
  EXPECT_EQ(p.sar_den, 1);
}

TEST(FrameGeometry, CropCoversAndCentres) {
  const FramePlan p = plan_frames(sized(200, 200, Fit::crop), 160, 90, 0, 1, 3, true);
  EXPECT_EQ(p.picture_width, 356);  // 160 * 200 / 90 = 355.6
  EXPECT_EQ(p.picture_height, 200);
  EXPECT_EQ(p.canvas_width, 356);
  EXPECT_EQ(p.window_x, 78);
  EXPECT_EQ(p.window_y, 0);
  EXPECT_EQ(p.out_width, 200);
  EXPECT_EQ(p.out_height, 200);
  EXPECT_FALSE(p.padded());
  EXPECT_EQ(p.net_width, 119);  // ceil(356 / 3)
  EXPECT_EQ(p.net_height, 67);  // ceil(200 / 3)
}

TEST(FrameGeometry, OddSizeWithPadAndCropIsMadeEven) {
  const FramePlan p = plan_frames(sized(201, 151, Fit::pad), 161, 91, 0, 1, 2, true);
  EXPECT_EQ(p.out_width, 200);
  EXPECT_EQ(p.out_height, 150);
  EXPECT_LE(p.picture_x + p.picture_width, 200);
  EXPECT_LE(p.picture_y + p.picture_height, 150);
  const FramePlan c = plan_frames(sized(201, 151, Fit::crop), 161, 91, 0, 1, 2, true);
  EXPECT_EQ(c.out_width, 200);
  EXPECT_EQ(c.out_height, 150);
  EXPECT_GE(c.picture_width, 200);
  EXPECT_GE(c.picture_height, 150);
}

TEST(FrameGeometry, StretchKeepsTheDisplayAspectThroughThePixelAspect) {
  const FramePlan p = plan_frames(sized(500, 300, Fit::stretch), 320, 180, 4, 3, 2, true);
  EXPECT_EQ(p.out_width, 500);
  EXPECT_EQ(p.sar_num, 64);
  EXPECT_EQ(p.sar_den, 45);
  EXPECT_EQ(p.net_width, 250);
  EXPECT_EQ(p.net_height, 150);
  EXPECT_FALSE(p.post_resize()) << "250x150 x2 is exactly 500x300";
}

TEST(FrameGeometry, BadOutscaleTargetsAreUsageErrors) {
  try {
    plan_frames(outscale(0.001), 160, 90, 0, 1, 2, true);
    FAIL() << "expected a usage error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(std::string(e.what()).find("--outscale"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_fit("zoom"), Error);
}

}  // namespace
}  // namespace upscaled::pipeline
