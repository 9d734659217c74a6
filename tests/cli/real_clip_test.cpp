// The real clip from ../shared/media (a public sample no one here made), when present.
#include "media_tools.h"

#include <gtest/gtest.h>

namespace upscaled::test {
namespace {

std::filesystem::path real_clip() {
  if (const char* env = std::getenv("UPSCALED_TEST_MEDIA")) return std::filesystem::path(env) / "echo-hereweare.webm";
  return std::filesystem::path(UPSCALED_SOURCE_DIR) / ".." / "shared" / "media" / "echo-hereweare.webm";
}

TEST(RealClip, EchoHereWeAreKeepsEveryFrameAndTheAudio) {
  const auto clip = real_clip();
  if (!std::filesystem::exists(clip)) GTEST_SKIP() << "no real clip at " << clip << " (shared/media absent)";
  TempDir tmp;
  const auto out = tmp / "echo.mkv";
  const CommandResult r = run_command(shell_quote(upscaled_binary()) + " file " + shell_quote(clip.string()) + " -o " +
                                      shell_quote(out.string()) + " -m lanczos -s 2 --preset ultrafast -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const VideoInfo v = probe_video(out);
  EXPECT_EQ(v.width, 960);
  EXPECT_EQ(v.height, 540);
  const auto a = frame_times(clip), b = frame_times(out);
  EXPECT_EQ(a.size(), 836u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(stream_hash(out, "a"), stream_hash(clip, "a"));
}

}  // namespace
}  // namespace upscaled::test
