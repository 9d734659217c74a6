// --decode / --encode: NVDEC and NVENC with their run-time fallbacks (docs/gpu-pipeline.md).
// The first group runs anywhere (a classic resampler keeps the frame path on the CPU, so
// NVDEC is never usable there); the NVDEC group needs a CUDA device, FFmpeg's CUDA hwaccel
// and a model that runs on CUDA, and skips visibly otherwise.
#include "core/error.h"
#include "io/encoder_select.h"
#include "kernels/backend.h"
#include "media_tools.h"

#include <gtest/gtest.h>

#include <regex>

namespace upscaled::test {
namespace {

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The one "upscaled: error: ..." line of a failed run.
std::string error_line(const std::string& output) {
  std::smatch m;
  return std::regex_search(output, m, std::regex("upscaled: error: [^\n]*")) ? m.str() : "";
}

std::filesystem::path h264_clip(const TempDir& tmp) {
  return make_clip(tmp, "in.mp4",
                   "-f lavfi -i testsrc2=size=160x96:rate=25 -f lavfi -i sine -frames:v 12 -t 0.48 "
                   "-c:v libx264 -pix_fmt yuv420p -c:a aac");
}

std::string upscale_cmd(const std::filesystem::path& in, const std::filesystem::path& out, const std::string& model,
                        const std::string& extra) {
  return shell_quote(upscaled_binary()) + " file " + shell_quote(in.string()) + " -o " + shell_quote(out.string()) +
         " -m " + shell_quote(model) + " -s 2 --no-progress --overwrite " + extra + " 2>&1";
}

TEST(EncoderCandidates, FamiliesModesAndExplicitEncoders) {
  using io::encoder_candidates;
  EXPECT_EQ(encoder_candidates("libx264", "auto"), std::vector<std::string>{"libx264"});  // as before
  EXPECT_EQ(encoder_candidates("h264", "auto"), (std::vector<std::string>{"h264_nvenc", "libx264"}));
  EXPECT_EQ(encoder_candidates("hevc", "cpu"), std::vector<std::string>{"libx265"});
  EXPECT_EQ(encoder_candidates("libx265", "nvenc"), std::vector<std::string>{"hevc_nvenc"});
  EXPECT_EQ(encoder_candidates("hevc_nvenc", "auto"), (std::vector<std::string>{"hevc_nvenc", "libx265"}));
  EXPECT_EQ(encoder_candidates("png", "auto"), std::vector<std::string>{"png"});
  EXPECT_THROW(encoder_candidates("png", "nvenc"), upscaled::Error);
  EXPECT_THROW(encoder_candidates("mpeg2video", "auto"), upscaled::Error);
}

TEST(HwCodecCli, DecodeNvdecWithoutTheGpuFramePathExitsSevenWithOneLine) {
  TempDir tmp;
  const auto clip = h264_clip(tmp);
  const auto r = run_command(upscale_cmd(clip, tmp / "out.mkv", "lanczos", "--decode nvdec"));
  EXPECT_EQ(r.exit_code, 7) << r.output;
  const std::string line = error_line(r.output);
  EXPECT_TRUE(contains(line, "--decode nvdec: NVDEC cannot be used (")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(tmp / "out.mkv"));
}

TEST(HwCodecCli, DecodeCpuAndEncodeCpuWork) {
  TempDir tmp;
  const auto clip = h264_clip(tmp);
  const auto r = run_command(upscale_cmd(clip, tmp / "out.mkv", "lanczos", "--decode cpu --encode cpu --codec h264"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "decode: libavcodec on the CPU (--decode cpu)")) << r.output;
  EXPECT_TRUE(contains(r.output, "encode: libx264 on the CPU")) << r.output;
  // (doctor's start-up lines may mention NVENC probes; the job's own encode line must not)
  EXPECT_FALSE(contains(r.output, "instead of h264_nvenc")) << "--encode cpu must not try NVENC: " << r.output;
  EXPECT_EQ(frame_times(tmp / "out.mkv").size(), 12u);  // times shift with AAC's priming in .mkv
  EXPECT_EQ(probe_video(tmp / "out.mkv").codec, "h264");
}

TEST(HwCodecCli, EncodeNvencWithoutNvencExitsSeven) {
  TempDir tmp;
  const auto clip = h264_clip(tmp);
  const auto r = run_command(upscale_cmd(clip, tmp / "out.mkv", "lanczos", "--encode nvenc"));
  if (r.exit_code == 0 && contains(r.output, "encode: h264_nvenc (NVENC"))
    GTEST_SKIP() << "this machine has a working NVENC (the fallback cannot be shown here)";
  EXPECT_EQ(r.exit_code, 7) << r.output;
  EXPECT_TRUE(contains(error_line(r.output), "--encode nvenc: h264_nvenc cannot be opened (")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(tmp / "out.mkv"));
}

TEST(HwCodecCli, EncodeAutoFallsBackToTheCpuEncoderAndSaysWhy) {
  TempDir tmp;
  const auto clip = h264_clip(tmp);
  const auto r = run_command(upscale_cmd(clip, tmp / "out.mkv", "lanczos", "--encode auto --codec h264 --stats"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  if (contains(r.output, "encode: h264_nvenc (NVENC")) GTEST_SKIP() << "this machine has a working NVENC";
  EXPECT_TRUE(contains(r.output, "encode: libx264 on the CPU instead of h264_nvenc (")) << r.output;
  EXPECT_TRUE(contains(r.output, "bottleneck:")) << "--stats still prints its table: " << r.output;
  EXPECT_EQ(probe_video(tmp / "out.mkv").codec, "h264");
  EXPECT_EQ(frame_times(tmp / "out.mkv").size(), 12u);  // times shift with AAC's priming in .mkv
}

// ---- NVDEC on a CUDA machine -------------------------------------------------------------

// A model that runs on CUDA (the GPU frame path only runs with one): the tiny SRVGG fixture.
std::string cuda_model() {
  return std::string(UPSCALED_SOURCE_DIR) + "/tests/fixtures/realesrgan/srvgg_x2.pth";
}

class Nvdec : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kernels::cuda_usable()) GTEST_SKIP() << "no usable CUDA device: " << kernels::cuda_status();
    if (!contains(run_command("ffmpeg -hide_banner -hwaccels 2>&1").output, "cuda"))
      GTEST_SKIP() << "this FFmpeg build has no CUDA hwaccel (NVDEC)";
  }
  // Runs with --decode cpu first: skips when the frame path does not run on the GPU (a build
  // without libtorch cannot run the model on CUDA).
  CommandResult run_cpu_decode(const std::filesystem::path& in, const std::filesystem::path& out) {
    const auto r = run_command(upscale_cmd(in, out, cuda_model(), "--decode cpu --crf 0"));
    if (r.exit_code != 0 && contains(r.output, "this build has no libtorch"))
      skip_reason_ = "this build has no libtorch: the model cannot run on CUDA";
    else if (r.exit_code == 0 && !contains(r.output, "colour conversion on the GPU"))
      skip_reason_ = "the GPU frame path does not run with " + cuda_model() + ": " + r.output;
    return r;
  }
  // NVDEC vs CPU decode of the same clip: same frames and timestamps, PSNR >= 40 dB.
  void compare_decoders(const std::filesystem::path& clip, const std::string& sw_format) {
    TempDir tmp;
    const auto cpu = run_cpu_decode(clip, tmp / "cpu.mkv");
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
    const auto gpu = run_command(upscale_cmd(clip, tmp / "gpu.mkv", cuda_model(), "--decode nvdec --crf 0"));
    ASSERT_EQ(gpu.exit_code, 0) << gpu.output;
    EXPECT_TRUE(contains(gpu.output, "decode: NVDEC")) << gpu.output;
    EXPECT_FALSE(contains(gpu.output, "take the CPU route")) << gpu.output;
    const auto times = frame_times(tmp / "gpu.mkv");
    EXPECT_EQ(times.size(), frame_times(clip).size());
    EXPECT_EQ(times, frame_times(tmp / "cpu.mkv"));
    const double db = video_psnr(tmp / "gpu.mkv", tmp / "cpu.mkv");
    EXPECT_GE(db, 40.0) << "NVDEC (" << sw_format << ") vs CPU decode";
    RecordProperty("psnr_nvdec_vs_cpu_db_" + sw_format, std::to_string(db));
  }
  std::string skip_reason_;
};

TEST_F(Nvdec, H264EightBitMatchesCpuDecode) {
  TempDir tmp;
  compare_decoders(h264_clip(tmp), "nv12");
}

TEST_F(Nvdec, HevcTenBitMatchesCpuDecode) {
  const std::filesystem::path clip = std::string(UPSCALED_SOURCE_DIR) + "/tests/fixtures/media/hevc_main10_192x144.mp4";
  compare_decoders(clip, "p010");
}

// NVDEC starts before the model is loaded, for the frame path foreseen then
// (planned_frames_device); where the job ends up on the CPU frame path after all, that path
// copies the device frames to the host. UPSCALED_FRAME_PATH=cpu forces the CPU path without
// changing the forecast.
TEST_F(Nvdec, FramesReachTheCpuFramePathWhenTheJobEndsUpThere) {
  TempDir tmp;
  const auto clip = h264_clip(tmp);
  const auto cpu = run_cpu_decode(clip, tmp / "cpu.mkv");
  if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  const auto r = run_command("UPSCALED_FRAME_PATH=cpu " +
                             upscale_cmd(clip, tmp / "gpu.mkv", cuda_model(), "--decode nvdec --crf 0"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "decode: NVDEC")) << r.output;
  EXPECT_TRUE(contains(r.output, "colour conversion on the CPU (UPSCALED_FRAME_PATH=cpu)")) << r.output;
  EXPECT_TRUE(contains(r.output, "NVDEC's frames are copied to the host")) << r.output;
  EXPECT_EQ(frame_times(tmp / "gpu.mkv"), frame_times(tmp / "cpu.mkv"));
  const double db = video_psnr(tmp / "gpu.mkv", tmp / "cpu.mkv");
  EXPECT_GE(db, 40.0) << "NVDEC frames on the CPU frame path vs CPU decode on the GPU path";
  RecordProperty("psnr_nvdec_cpu_path_vs_cpu_db", std::to_string(db));
}

TEST_F(Nvdec, H264High10FallsBackToTheCpuWithTheReason) {
  TempDir tmp;
  const auto clip = tmp / "high10.mp4";
  const auto made = run_command(
      "ffmpeg -v error -y -f lavfi -i testsrc2=size=160x96:rate=25 -frames:v 8 -c:v libx264 "
      "-profile:v high10 -pix_fmt yuv420p10le " +
      shell_quote(clip.string()) + " 2>&1");
  if (made.exit_code != 0) GTEST_SKIP() << "libx264 here was not built with 10-bit support: " << made.output;
  const auto cpu = run_cpu_decode(clip, tmp / "cpu.mkv");
  if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  const auto r = run_command(upscale_cmd(clip, tmp / "auto.mkv", cuda_model(), ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "decode: libavcodec on the CPU (NVDEC decodes 8-bit H.264 only")) << r.output;
  EXPECT_EQ(frame_times(tmp / "auto.mkv"), frame_times(tmp / "cpu.mkv"));
  const auto required = run_command(upscale_cmd(clip, tmp / "req.mkv", cuda_model(), "--decode nvdec"));
  EXPECT_EQ(required.exit_code, 7) << required.output;
}

TEST_F(Nvdec, CodecWithoutNvdecFallsBackToTheCpuWithTheReason) {
  TempDir tmp;
  const auto clip = make_clip(tmp, "in.mkv", "-f lavfi -i testsrc2=size=160x96:rate=25 -frames:v 8 -c:v ffv1");
  const auto cpu = run_cpu_decode(clip, tmp / "cpu.mkv");
  if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  const auto r = run_command(upscale_cmd(clip, tmp / "auto.mkv", cuda_model(), ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(
      contains(r.output, "decode: libavcodec on the CPU (this FFmpeg build has no CUDA hwaccel (NVDEC) for ffv1)"))
      << r.output;
  EXPECT_EQ(frame_times(tmp / "auto.mkv").size(), 8u);
  const auto required = run_command(upscale_cmd(clip, tmp / "req.mkv", cuda_model(), "--decode nvdec"));
  EXPECT_EQ(required.exit_code, 7) << required.output;
  EXPECT_TRUE(contains(error_line(required.output), "ffv1")) << required.output;
}

TEST_F(Nvdec, ResolutionChangeMidStreamGoesThrough) {
  TempDir tmp;
  const auto a = make_clip(tmp, "a.ts",
                           "-f lavfi -i testsrc2=size=160x96:rate=25 -frames:v 6 -c:v libx264 -bsf:v "
                           "h264_mp4toannexb -pix_fmt yuv420p");
  const auto b = make_clip(tmp, "b.ts",
                           "-f lavfi -i testsrc2=size=128x80:rate=25 -frames:v 6 -c:v libx264 -bsf:v "
                           "h264_mp4toannexb -pix_fmt yuv420p -output_ts_offset 0.24");
  const auto clip = tmp / "both.ts";
  run_ok("cat " + shell_quote(a.string()) + " " + shell_quote(b.string()) + " > " + shell_quote(clip.string()));
  const auto cpu = run_cpu_decode(clip, tmp / "cpu.mkv");
  if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  const auto r = run_command(upscale_cmd(clip, tmp / "gpu.mkv", cuda_model(), "--decode nvdec"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "decode: NVDEC")) << r.output;
  EXPECT_TRUE(contains(r.output, "take the CPU route")) << "the 128x80 frames differ from the first: " << r.output;
  EXPECT_EQ(frame_times(tmp / "gpu.mkv"), frame_times(tmp / "cpu.mkv"));
  EXPECT_EQ(probe_video(tmp / "gpu.mkv").width, 320);
}

}  // namespace
}  // namespace upscaled::test
