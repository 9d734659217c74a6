// Frame geometry and output modes of `upscaled file` on the CPU path (fast classic
// resamplers): --outscale, --size with --fit, --pre-resize, --grayscale, --skip-duplicates,
// and their usage errors. Output pixels are checked on lossless (--crf 0) encodes.
#include "media_tools.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace upscaled::test {
namespace {

class Geometry : public ::testing::Test {
 protected:
  std::filesystem::path clip(const std::string& name, const std::string& source, const std::string& codec) {
    const auto p = tmp_ / name;
    run_ok("ffmpeg -v error -y -f lavfi -i " + shell_quote(source) + " " + codec + " " + shell_quote(p.string()));
    return p;
  }
  // 160x90, 8 frames of H.264.
  std::filesystem::path plain() {
    return clip("plain.mp4", "testsrc2=size=160x90:rate=25", "-frames:v 8 -c:v libx264 -preset ultrafast");
  }
  std::filesystem::path odd() {
    return clip("odd.mkv", "testsrc=size=161x91:rate=25", "-frames:v 4 -pix_fmt yuv420p -c:v ffv1");
  }

  CommandResult upscale(const std::filesystem::path& in, const std::string& out, const std::string& args) {
    return run_command(shell_quote(upscaled_binary()) + " file " + shell_quote(in.string()) + " -o " +
                       shell_quote((tmp_ / out).string()) + " --no-progress " + args);
  }
  std::filesystem::path out(const std::string& name) const { return tmp_ / name; }

  // Frame `index` of `file` as raw yuv420p (Y plane, then U, then V).
  std::string yuv_frame(const std::filesystem::path& file, int index = 0) {
    const auto raw = tmp_ / "frame.yuv";
    run_ok("ffmpeg -v error -y -i " + shell_quote(file.string()) + " -vf " +
           shell_quote("select=eq(n\\," + std::to_string(index) + ")") + " -frames:v 1 -f rawvideo -pix_fmt yuv420p " +
           shell_quote(raw.string()));
    return read_file(raw);
  }
  // Per-frame MD5s of the decoded pictures.
  std::vector<std::string> frame_md5s(const std::filesystem::path& file) {
    const std::string text = run_ok("ffmpeg -v error -i " + shell_quote(file.string()) + " -f framemd5 -");
    std::vector<std::string> md5s;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] != '#') md5s.push_back(line.substr(line.rfind(',') + 1));
    return md5s;
  }

  TempDir tmp_;
};

std::int64_t skipped_from_log(const std::string& output) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex(R"(--skip-duplicates: (\d+) of (\d+) frames)"))) return -1;
  return std::stoll(m[1]);
}

TEST_F(Geometry, OutscaleSizesIncludingOddInputs) {
  struct Case {
    std::string args;
    bool odd_input;
    int width, height;
  };
  const Case cases[] = {
      {"-m lanczos --outscale 1.5", false, 240, 134},     // 135 made even for 4:2:0
      {"-m lanczos --outscale 3 -s 2", false, 480, 270},  // model at x2, Lanczos up to x3
      {"-m bicubic --outscale 2.5", true, 402, 228},      // 402.5 x 227.5 rounded, made even
      {"-m lanczos --outscale 0.5", true, 80, 46},
  };
  for (const Case& c : cases) {
    const CommandResult r = upscale(c.odd_input ? odd() : plain(), "o.mkv", c.args + " --overwrite");
    ASSERT_EQ(r.exit_code, 0) << c.args << "\n" << r.output;
    const VideoInfo v = probe_video(out("o.mkv"));
    EXPECT_EQ(v.width, c.width) << c.args;
    EXPECT_EQ(v.height, c.height) << c.args;
    EXPECT_EQ(frame_times(out("o.mkv")), frame_times(c.odd_input ? odd() : plain())) << c.args;
  }
}

TEST_F(Geometry, SizeWithFitSizesAndPixelAspect) {
  struct Case {
    std::string args;
    bool odd_input;
    int width, height;
    std::string sar;
  };
  const Case cases[] = {
      {"--size 200x200 --fit pad", false, 200, 200, "1:1"}, {"--size 200x200 --fit crop", false, 200, 200, "1:1"},
      {"--size 201x151 --fit pad", true, 200, 150, "1:1"},  {"--size 201x151 --fit crop", true, 200, 150, "1:1"},
      {"--size 320x320", false, 320, 320, "16:9"},  // stretch keeps the display aspect
  };
  for (const Case& c : cases) {
    const CommandResult r = upscale(c.odd_input ? odd() : plain(), "s.mkv", "-m lanczos --overwrite " + c.args);
    ASSERT_EQ(r.exit_code, 0) << c.args << "\n" << r.output;
    const VideoInfo v = probe_video(out("s.mkv"));
    EXPECT_EQ(v.width, c.width) << c.args;
    EXPECT_EQ(v.height, c.height) << c.args;
    EXPECT_EQ(v.sample_aspect_ratio, c.sar) << c.args;
  }
}

TEST_F(Geometry, PadBarsAreTrueBlackAndThePictureIsCentred) {
  // A red 160x90 picture padded into 160x160: bars above and below.
  const auto src = clip("red.mkv", "color=c=red:size=160x90:rate=25", "-frames:v 3 -pix_fmt yuv420p -c:v ffv1");
  const CommandResult r = upscale(src, "pad.mkv", "-m lanczos --size 160x160 --fit pad --crf 0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string yuv = yuv_frame(out("pad.mkv"), 2);
  ASSERT_EQ(yuv.size(), 160u * 160 * 3 / 2);
  auto Y = [&](int x, int y) { return static_cast<unsigned char>(yuv[y * 160 + x]); };
  auto U = [&](int x, int y) { return static_cast<unsigned char>(yuv[160 * 160 + y * 80 + x]); };
  auto V = [&](int x, int y) { return static_cast<unsigned char>(yuv[160 * 160 + 80 * 80 + y * 80 + x]); };
  int first = -1, last = -1;
  for (int y = 0; y < 160; ++y)
    if (Y(80, y) != 16) {
      if (first < 0) first = y;
      last = y;
    }
  ASSERT_GE(first, 0) << "no picture at all";
  const int top = first, bottom = 159 - last;
  EXPECT_EQ(last - first + 1, 90) << "picture rows";
  EXPECT_LE(std::abs(top - bottom), 2) << "top bar " << top << " rows, bottom bar " << bottom;
  for (int y = 0; y < 160; ++y) {
    const bool bar = y < top || y > last;
    for (int x = 0; x < 160; ++x) {
      if (bar) {
        ASSERT_EQ(Y(x, y), 16) << "bar pixel " << x << "," << y;
      }
      if (bar && y / 2 * 2 == y && (y + 1 < top || y > last)) {
        ASSERT_EQ(U(x / 2, y / 2), 128) << "bar chroma " << x << "," << y;
        ASSERT_EQ(V(x / 2, y / 2), 128) << "bar chroma " << x << "," << y;
      }
    }
  }
  EXPECT_GT(V(40, 40), 200) << "the picture should still be red";
}

TEST_F(Geometry, CropKeepsTheCentre) {
  // Blue with a white band in the middle columns 60..99 of 160; cropped to 90x90 the band
  // sits at 25..64 and both edges stay blue.
  const auto src = clip("band.mkv", "color=c=blue:size=160x90:rate=25,drawbox=x=60:y=0:w=40:h=90:color=white:t=fill",
                        "-frames:v 2 -pix_fmt yuv420p -c:v ffv1");
  const CommandResult r = upscale(src, "crop.mkv", "-m lanczos --size 90x90 --fit crop --crf 0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const VideoInfo v = probe_video(out("crop.mkv"));
  ASSERT_EQ(v.width, 90);
  ASSERT_EQ(v.height, 90);
  const std::string yuv = yuv_frame(out("crop.mkv"));
  auto Y = [&](int x, int y) { return static_cast<unsigned char>(yuv[y * 90 + x]); };
  for (int y : {10, 45, 80}) {
    EXPECT_GT(Y(45, y), 200) << "centre should be the white band";
    EXPECT_GT(Y(33, y), 200);
    EXPECT_GT(Y(56, y), 200);
    EXPECT_LT(Y(3, y), 60) << "left edge should be blue";
    EXPECT_LT(Y(86, y), 60) << "right edge should be blue";
    EXPECT_LT(Y(18, y), 60);
    EXPECT_LT(Y(71, y), 60);
  }
}

TEST_F(Geometry, GrayscaleChromaIsExactlyNeutral) {
  const auto src = plain();
  const CommandResult r = upscale(src, "gray.mkv", "-m lanczos -s 2 --grayscale --crf 0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int frame : {0, 7}) {
    const std::string yuv = yuv_frame(out("gray.mkv"), frame);
    ASSERT_EQ(yuv.size(), 320u * 180 * 3 / 2);
    int off = 0, luma_levels = 0;
    for (std::size_t i = 320 * 180; i < yuv.size(); ++i) off += static_cast<unsigned char>(yuv[i]) != 128;
    EXPECT_EQ(off, 0) << "chroma samples away from 128 in frame " << frame;
    std::vector<bool> seen(256);
    for (std::size_t i = 0; i < 320 * 180; ++i) seen[static_cast<unsigned char>(yuv[i])] = true;
    for (bool s : seen) luma_levels += s;
    EXPECT_GT(luma_levels, 50) << "luma should keep the picture";
  }
  // Without the option the same clip has colour.
  ASSERT_EQ(upscale(src, "colour.mkv", "-m lanczos -s 2 --crf 0").exit_code, 0);
  const std::string colour = yuv_frame(out("colour.mkv"));
  int off = 0;
  for (std::size_t i = 320 * 180; i < colour.size(); ++i) off += static_cast<unsigned char>(colour[i]) != 128;
  EXPECT_GT(off, 1000);
}

TEST_F(Geometry, SkipDuplicatesRepeatsRunsOfIdenticalFrames) {
  // 4 distinct pictures, each shown 5 times at 25 fps (lossless, so repeats decode identically).
  const auto src = clip("dups.mkv", "testsrc2=size=160x90:rate=5,fps=25", "-frames:v 20 -pix_fmt yuv420p -c:v ffv1");
  ASSERT_EQ(frame_times(src).size(), 20u);
  const CommandResult on = upscale(src, "on.mkv", "-m lanczos -s 2 --crf 0 --skip-duplicates --stats --batch 3");
  ASSERT_EQ(on.exit_code, 0) << on.output;
  EXPECT_EQ(skipped_from_log(on.output), 16) << on.output;
  EXPECT_NE(on.output.find("16 duplicate frames skipped the network"), std::string::npos) << on.output;
  EXPECT_EQ(frame_times(out("on.mkv")), frame_times(src));

  const CommandResult off = upscale(src, "off.mkv", "-m lanczos -s 2 --crf 0 --stats");
  ASSERT_EQ(off.exit_code, 0) << off.output;
  EXPECT_EQ(skipped_from_log(off.output), -1) << "no skipping unless asked:\n" << off.output;
  EXPECT_EQ(off.output.find("duplicate"), std::string::npos) << off.output;
  // Every repeat shows exactly the picture the network made for its original.
  EXPECT_EQ(frame_md5s(out("on.mkv")), frame_md5s(out("off.mkv")));

  // An explicit threshold is accepted.
  const CommandResult t = upscale(src, "t.mkv", "-m lanczos -s 2 --skip-duplicates=0.01");
  ASSERT_EQ(t.exit_code, 0) << t.output;
  EXPECT_EQ(skipped_from_log(t.output), 16) << t.output;
}

TEST_F(Geometry, SkipDuplicatesSkipsNothingWithoutDuplicates) {
  const auto src = clip("moving.mkv", "testsrc2=size=160x90:rate=25", "-frames:v 12 -pix_fmt yuv420p -c:v ffv1");
  const CommandResult r = upscale(src, "m.mkv", "-m lanczos -s 2 --skip-duplicates");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(skipped_from_log(r.output), 0) << r.output;
  EXPECT_EQ(frame_times(out("m.mkv")), frame_times(src));
}

// The threshold comes only from the "=T" form: a bare --skip-duplicates before the input
// must not take the input path for its value, and a bad value is one usage line.
TEST_F(Geometry, SkipDuplicatesBareFlagBeforeTheInputAndBadValues) {
  const auto src = clip("still.mkv", "color=c=gray:size=96x54:rate=25", "-frames:v 6 -pix_fmt yuv420p -c:v ffv1");
  const CommandResult bare =
      run_command(shell_quote(upscaled_binary()) + " file --skip-duplicates " + shell_quote(src.string()) + " -o " +
                  shell_quote(out("bare.mkv").string()) + " -m lanczos -s 2 --no-progress");
  ASSERT_EQ(bare.exit_code, 0) << bare.output;
  EXPECT_EQ(skipped_from_log(bare.output), 5) << bare.output;  // a still picture: all but the first repeat

  for (const char* bad : {"abc", "0", "1.5", "0.01x"}) {
    const CommandResult r = upscale(src, "bad.mkv", std::string("-m lanczos -s 2 --skip-duplicates=") + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find(std::string("--skip-duplicates=") + bad + ": expected a mean luma difference"),
              std::string::npos)
        << r.output;
    EXPECT_FALSE(std::filesystem::exists(out("bad.mkv"))) << bad;
  }
}

TEST_F(Geometry, PreResizeFeedsTheNetworkASmallerFrame) {
  const CommandResult r = upscale(plain(), "pre.mkv", "-m lanczos --outscale 1.5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("pre-resize: the network gets 120x68 instead of 160x90"), std::string::npos) << r.output;
  EXPECT_EQ(probe_video(out("pre.mkv")).width, 240);

  const CommandResult never = upscale(plain(), "never.mkv", "-m lanczos --outscale 1.5 --pre-resize never");
  ASSERT_EQ(never.exit_code, 0) << never.output;
  EXPECT_EQ(never.output.find("pre-resize:"), std::string::npos) << never.output;
  EXPECT_NE(never.output.find("network 160x90 -> 320x180"), std::string::npos) << never.output;
  const VideoInfo v = probe_video(out("never.mkv"));
  EXPECT_EQ(v.width, 240);
  EXPECT_EQ(v.height, 134);

  // Nothing to gain at the model's own scale.
  const CommandResult same = upscale(plain(), "same.mkv", "-m lanczos -s 2");
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_EQ(same.output.find("pre-resize:"), std::string::npos) << same.output;
}

TEST_F(Geometry, UsageErrorsExitTwoWithOneLine) {
  const auto src = plain();
  const std::pair<std::string, std::string> cases[] = {
      {"--outscale 2 --size 200x200", "--outscale"},
      {"--outscale -1", "--outscale"},
      {"--outscale 0.001", "--outscale"},
      {"--outscale 40", "--outscale"},
      {"--outscale two", "--outscale"},
      {"--fit zoom --size 200x200", "--fit"},
      {"--fit pad", "--fit"},
      {"--pre-resize sometimes", "--pre-resize"},
      {"--skip-duplicates=2", "--skip-duplicates"},
      {"--skip-duplicates=-0.1", "--skip-duplicates"},
      {"--skip-duplicates=abc", "--skip-duplicates"},
  };
  for (const auto& [args, names] : cases) {
    const CommandResult r = upscale(src, "bad.mkv", "-m lanczos " + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    int lines = 0;
    std::string last;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("upscaled: ", 0) == 0 && line.find("upscaled: info") == std::string::npos) {
        ++lines;
        last = line;
      }
    EXPECT_EQ(lines, 1) << args << "\n" << r.output;
    EXPECT_NE(last.find(names), std::string::npos) << args << ": " << last;
    EXPECT_FALSE(std::filesystem::exists(out("bad.mkv"))) << args;
  }
}

}  // namespace
}  // namespace upscaled::test
