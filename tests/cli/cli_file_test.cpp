// `upscaled file` on generated clips: every stream kept, timestamps kept, metadata kept.
#include "media_tools.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <functional>

namespace upscaled::test {
namespace {

// Clips are generated once per build tree (ctest runs each test in its own process) into
// tests/cli/media, each under a temporary name renamed into place, so parallel runs agree.
std::filesystem::path media_dir() {
  std::filesystem::path dir = UPSCALED_TEST_MEDIA_CACHE;
  std::filesystem::create_directories(dir);
  return dir;
}

// `make` receives the path to write; the clip appears at `name` only when complete.
std::filesystem::path ensure_clip(const std::string& name, const std::function<void(const std::string&)>& make) {
  const auto final_path = media_dir() / name;
  if (std::filesystem::exists(final_path)) return final_path;
  const auto tmp = media_dir() / ("tmp-" + std::to_string(::getpid()) + "-" + name);
  make(tmp.string());
  std::filesystem::rename(tmp, final_path);
  return final_path;
}

std::filesystem::path ensure_ffmpeg_clip(const std::string& name, const std::string& args) {
  return ensure_clip(name,
                     [&](const std::string& out) { run_ok("ffmpeg -v error -y " + args + " " + shell_quote(out)); });
}

std::filesystem::path side_file(const std::string& name, const std::string& bytes) {
  return ensure_clip(name, [&](const std::string& out) { std::ofstream(out, std::ios::binary) << bytes; });
}

std::filesystem::path font_file() {
  std::string font;
  for (int i = 0; i < 4096; ++i) font.push_back(static_cast<char>((i * 131) & 0xff));
  return side_file("font.ttf", font);
}

class FileCommand : public ::testing::Test {
 protected:
  // H.264 + AAC + mov_text + chapters + colour tags + 4:3 pixels + a 90-degree rotation.
  static std::filesystem::path h264_mp4() {
    const auto srt = side_file("subs.srt",
                               "1\n00:00:00,000 --> 00:00:00,800\nHello\n\n2\n00:00:01,000 --> "
                               "00:00:01,900\nWorld\n");
    const auto meta = side_file("chapters.txt",
                                ";FFMETADATA1\ntitle=Chaptered clip\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\n"
                                "title=One\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=Two\n");
    const auto plain = ensure_ffmpeg_clip(
        "plain.mp4",
        "-f lavfi -i testsrc2=size=320x180:rate=25:duration=2 -f lavfi -i sine=frequency=440:duration=2 "
        "-i " +
            shell_quote(srt.string()) +
            " -map 0:v -map 1:a -map 2:s -c:v libx264 -preset ultrafast "
            "-pix_fmt yuv420p -color_primaries bt709 -color_trc bt709 -colorspace bt709 -vf setsar=4/3 "
            "-c:a aac -c:s mov_text");
    // FFmpeg 5.1's CLI cannot write a display matrix: add it in code, then the metadata.
    const auto rotated =
        ensure_clip("rotated.mp4", [&](const std::string& out) { remux_with_rotation(plain, out, 90); });
    return ensure_ffmpeg_clip("h264.mp4", "-i " + shell_quote(rotated.string()) + " -i " + shell_quote(meta.string()) +
                                              " -map 0 -map_metadata 1 -map_chapters 1 -c copy "
                                              "-metadata:s:a:0 language=fra -f mp4");
  }
  static std::filesystem::path plain_mp4() {
    h264_mp4();
    return media_dir() / "plain.mp4";
  }
  static std::filesystem::path vp9_mkv() {
    return ensure_ffmpeg_clip(
        "vp9.mkv",
        "-f lavfi -i testsrc2=size=320x180:rate=25:duration=2 -f lavfi -i sine=frequency=330:duration=2 "
        "-map 0:v -map 1:a -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -c:a libopus -attach " +
            shell_quote(font_file().string()) +
            " -metadata:s:t:0 mimetype=application/x-truetype-font -metadata:s:t:0 filename=font.ttf -f matroska");
  }
  // Variable frame rate: 10 frames at 25 fps, then 10 at 5 fps, then 10 at 50 fps.
  static std::filesystem::path vfr_mkv() {
    return ensure_ffmpeg_clip(
        "vfr.mkv",
        "-f lavfi -i testsrc2=size=160x90:rate=25 -frames:v 30 -vf "
        "\"settb=1/1000,setpts='if(lt(N,10),N*0.04,if(lt(N,20),0.4+(N-10)*0.2,2.4+(N-20)*0.02))/TB'\" "
        "-fps_mode passthrough -enc_time_base 1:1000 -c:v libx264 -preset ultrafast -f matroska");
  }
  // Odd size, so no 4:2:0 H.264 is possible: lossless FFV1 in 4:4:4.
  static std::filesystem::path odd_mkv() {
    return ensure_ffmpeg_clip("odd.mkv",
                              "-f lavfi -i testsrc=size=853x481:rate=25 -frames:v 6 -pix_fmt yuv444p "
                              "-c:v ffv1 -f matroska");
  }
  static std::filesystem::path tenbit_mp4() {
    return ensure_ffmpeg_clip("tenbit.mp4",
                              "-f lavfi -i testsrc2=size=192x108:rate=25 -frames:v 10 -c:v libx264 "
                              "-preset ultrafast -pix_fmt yuv420p10le -f mp4");
  }
  static std::filesystem::path still_png() {
    return ensure_ffmpeg_clip("still.png", "-f lavfi -i testsrc=size=97x61 -frames:v 1 -c:v png -f image2");
  }
  static std::filesystem::path still_jpg() {
    return ensure_ffmpeg_clip("still.jpg", "-f lavfi -i testsrc2=size=96x64 -frames:v 1 -q:v 3 -c:v mjpeg -f image2");
  }

  std::filesystem::path out(const std::string& name) const { return work_ / name; }

  CommandResult upscale(const std::filesystem::path& input, const std::filesystem::path& output,
                        const std::string& extra = "-m lanczos -s 2") {
    return run_command(shell_quote(upscaled_binary()) + " file " + shell_quote(input.string()) + " -o " +
                       shell_quote(output.string()) + " --preset ultrafast -q " + extra);
  }

  // Same number of frames at the same presentation times. `from_first_frame` compares
  // times relative to the first video frame instead (every frame's duration, not the start):
  // FFmpeg 5.1's Matroska muxer stores Opus without its codec delay and then shifts the
  // whole file to keep timestamps non-negative (docs/file-command.md, known limitations).
  void expect_same_frames(const std::filesystem::path& a, const std::filesystem::path& b,
                          bool from_first_frame = false) {
    const auto ta = frame_times(a), tb = frame_times(b);
    ASSERT_FALSE(ta.empty());
    ASSERT_EQ(ta.size(), tb.size()) << "frame count differs";
    const double sa = from_first_frame ? std::stod(ta[0]) : 0, sb = from_first_frame ? std::stod(tb[0]) : 0;
    for (size_t i = 0; i < ta.size(); ++i)
      ASSERT_NEAR(std::stod(ta[i]) - sa, std::stod(tb[i]) - sb, 1e-6)
          << "frame " << i << ": " << ta[i] << " vs " << tb[i];
  }

  TempDir work_dir_;
  const std::filesystem::path& work_ = work_dir_.path();
};

TEST_F(FileCommand, Mp4KeepsAudioSubtitlesChaptersMetadataRotationAndColour) {
  const auto src = h264_mp4(), dst = out("up.mp4");
  const std::string before = read_file(src);
  const CommandResult r = upscale(src, dst);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(src), before) << "the input must never be modified";

  const VideoInfo vi = probe_video(src), vo = probe_video(dst);
  EXPECT_EQ(vo.width, vi.width * 2);
  EXPECT_EQ(vo.height, vi.height * 2);
  EXPECT_EQ(vo.codec, "h264");
  expect_same_frames(src, dst);
  EXPECT_EQ(stream_hash(dst, "a"), stream_hash(src, "a"));
  EXPECT_EQ(stream_hash(dst, "s"), stream_hash(src, "s"));
  EXPECT_EQ(count_streams(dst, "a"), 1);
  EXPECT_EQ(count_streams(dst, "s"), 1);

  EXPECT_EQ(vo.color_primaries, "bt709");
  EXPECT_EQ(vo.color_transfer, "bt709");
  EXPECT_EQ(vo.color_space, "bt709");
  EXPECT_EQ(vo.color_range, "tv");
  EXPECT_EQ(vo.sample_aspect_ratio, "4:3");
  EXPECT_EQ(vi.rotation, -90) << "fixture should carry a display matrix";
  EXPECT_EQ(vo.rotation, vi.rotation);

  const std::string chapters_in = probe_entries(src, "chapter=start_time,end_time:chapter_tags=title");
  EXPECT_NE(chapters_in.find("Two"), std::string::npos);
  EXPECT_EQ(probe_entries(dst, "chapter=start_time,end_time:chapter_tags=title"), chapters_in);
  EXPECT_NE(probe_entries(dst, "format_tags=title").find("Chaptered clip"), std::string::npos);
  EXPECT_NE(probe_entries(dst, "stream_tags=language").find("fra"), std::string::npos);
}

bool have_encoder(const std::string& name) {
  return run_command("ffmpeg -hide_banner -encoders 2>/dev/null | grep -qw " + name).exit_code == 0;
}

TEST_F(FileCommand, MatroskaVp9OpusKeepsFontAttachmentBitExact) {
  if (!have_encoder("libvpx-vp9") || !have_encoder("libopus"))
    GTEST_SKIP() << "this FFmpeg cannot make the VP9 + Opus fixture (no libvpx-vp9 or libopus encoder)";
  const auto src = vp9_mkv(), dst = out("up.mkv");
  const CommandResult r = upscale(src, dst);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_frames(src, dst, /*from_first_frame=*/true);
  EXPECT_EQ(stream_hash(dst, "a"), stream_hash(src, "a"));
  EXPECT_EQ(probe_video(dst).width, 640);
  ASSERT_EQ(count_streams(dst, "t"), 1);
  run_ok("cd " + shell_quote(work_.string()) +
         " && ffmpeg -v error -dump_attachment:t:0 dumped.ttf -i up.mkv 2>/dev/null; true");
  EXPECT_EQ(read_file(out("dumped.ttf")), read_file(font_file()));
  EXPECT_NE(probe_entries(dst, "stream_tags=mimetype").find("application/x-truetype-font"), std::string::npos);
}

TEST_F(FileCommand, VariableFrameRateTimestampsSurviveIntoMp4) {
  const auto src = vfr_mkv(), dst = out("vfr.mp4");
  const CommandResult r = upscale(src, dst);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto t = frame_times(src);
  ASSERT_EQ(t.size(), 30u);
  EXPECT_EQ(t[11], "0.600000") << "fixture should be variable frame rate";
  expect_same_frames(src, dst);
}

TEST_F(FileCommand, OddDimensionsScaleExactly) {
  const auto src = odd_mkv(), dst = out("odd.mkv");
  const CommandResult r = upscale(src, dst);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const VideoInfo v = probe_video(dst);
  EXPECT_EQ(v.width, 1706);
  EXPECT_EQ(v.height, 962);
  expect_same_frames(src, dst);
}

TEST_F(FileCommand, TenBitStaysTenBit) {
  const auto src = tenbit_mp4(), dst = out("tenbit.mp4");
  const CommandResult r = upscale(src, dst);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const VideoInfo v = probe_video(dst);
  EXPECT_EQ(v.pix_fmt, "yuv420p10le");
  EXPECT_EQ(v.width, 384);
  expect_same_frames(src, dst);
}

TEST_F(FileCommand, ScaleThreeFourEightAndExactSize) {
  for (int s : {3, 4, 8}) {
    const auto dst = out("s" + std::to_string(s) + ".mkv");
    const CommandResult r = upscale(vfr_mkv(), dst, "-m bicubic -s " + std::to_string(s));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const VideoInfo v = probe_video(dst);
    EXPECT_EQ(v.width, 160 * s);
    EXPECT_EQ(v.height, 90 * s);
  }
  const auto dst = out("sized.mp4");
  const CommandResult r = upscale(plain_mp4(), dst, "-m lanczos --size 500x300");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const VideoInfo v = probe_video(dst);
  EXPECT_EQ(v.width, 500);
  EXPECT_EQ(v.height, 300);
  // 320x180 with 4:3 pixels is 2.370:1 on screen; at 500x300 that needs 64:45 pixels.
  EXPECT_EQ(v.sample_aspect_ratio, "64:45");
}

TEST_F(FileCommand, X265Codec) {
  if (!have_encoder("libx265")) GTEST_SKIP() << "this FFmpeg has no libx265 encoder";
  const auto dst = out("hevc.mkv");
  const CommandResult r = upscale(vfr_mkv(), dst, "-m bilinear -s 2 --codec libx265");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(probe_video(dst).codec, "hevc");
  expect_same_frames(vfr_mkv(), dst);
}

TEST_F(FileCommand, StillImagesPngAndJpeg) {
  CommandResult r = upscale(still_png(), out("big.png"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  VideoInfo v = probe_video(out("big.png"));
  EXPECT_EQ(v.codec, "png");
  EXPECT_EQ(v.width, 194);
  EXPECT_EQ(v.height, 122);
  r = upscale(still_jpg(), out("big.jpg"), "-m lanczos -s 4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  v = probe_video(out("big.jpg"));
  EXPECT_EQ(v.codec, "mjpeg");
  EXPECT_EQ(v.width, 384);
  EXPECT_EQ(v.height, 256);
}

TEST_F(FileCommand, OverwriteReplacesAnExistingOutput) {
  const auto dst = out("exists.mkv");
  { std::ofstream(dst) << "old"; }
  const CommandResult r = upscale(vfr_mkv(), dst, "-m bilinear -s 2 --overwrite");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(probe_video(dst).width, 320);
}

TEST_F(FileCommand, LeavesNoTemporaryFilesBehind) {
  const CommandResult r = upscale(vfr_mkv(), out("clean.mkv"), "-m bilinear -s 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(work_)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().find(".upscaled-tmp-"), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace upscaled::test

namespace upscaled::test {
namespace {

TEST(FileStats, StatsNameEveryStageAndTheBottleneck) {
  TempDir tmp;
  const auto clip = tmp / "in.mkv";
  run_ok("ffmpeg -v error -y -f lavfi -i testsrc2=size=64x36:rate=25 -frames:v 12 -c:v libx264 -preset ultrafast " +
         shell_quote(clip.string()));
  const CommandResult r =
      run_command(shell_quote(upscaled_binary()) + " file " + shell_quote(clip.string()) + " -o " +
                  shell_quote((tmp / "out.mkv").string()) + " -m bilinear -s 2 --no-progress --stats");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* stage : {"demux", "decode", "upscale", "encode", "mux", "bottleneck:", "12 frames in"})
    EXPECT_NE(r.output.find(stage), std::string::npos) << stage << " missing from:\n" << r.output;
  EXPECT_NE(r.output.find("steady state:"), std::string::npos) << r.output;
}

// SIGINT while the stages run: the forwarder turns it into a cancel, exit 130, and neither
// the output nor its temporary file is left (tests/cli/gpu_path_test.cpp does this on the GPU).
TEST(FileCancel, SigintWhileRunningExits130AndLeavesNothing) {
  TempDir tmp;
  const auto clip = tmp / "in.mp4";
  run_ok(
      "ffmpeg -v error -y -f lavfi -i testsrc2=size=320x180:rate=30 -frames:v 3000 -c:v libx264 -preset "
      "ultrafast " +
      shell_quote(clip.string()));
  const auto out_dir = tmp / "out";
  std::filesystem::create_directories(out_dir);
  const CommandResult r = run_command("timeout --preserve-status -s INT 2 " + shell_quote(upscaled_binary()) +
                                      " file " + shell_quote(clip.string()) + " -m lanczos -s 2 --no-progress -o " +
                                      shell_quote((out_dir / "out.mkv").string()));
  EXPECT_EQ(r.exit_code, 130) << r.output;
  EXPECT_NE(r.output.find("cancelling"), std::string::npos) << r.output;
  for (const auto& e : std::filesystem::directory_iterator(out_dir))
    ADD_FAILURE() << "left behind: " << e.path() << "\n" << r.output;
}

}  // namespace
}  // namespace upscaled::test
