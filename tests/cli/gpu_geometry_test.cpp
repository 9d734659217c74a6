// The GPU frame path against the CPU path for the geometry and output-mode options (the x2
// esrgan-slim model file, so -s 2 always; a file has one scale): same frame count and
// timestamps, same skipped count, PSNR >= 40 dB between the two (they differ by float16
// rounding only), and no device buffer of the frame path beyond what the model's reservation
// counted. Runs on a CUDA machine with the UpscalerJS packages; skips visibly elsewhere.
#include "kernels/backend.h"
#include "media_tools.h"

#include <gtest/gtest.h>

#include <regex>

namespace upscaled::test {
namespace {

std::string skipped(const std::string& log) {
  std::smatch m;
  return std::regex_search(log, m, std::regex(R"(--skip-duplicates: (\d+) of)")) ? m[1].str() : "none";
}

struct GpuCase {
  const char* name;
  const char* args;
  bool duplicates;       // use the clip with runs of repeated frames
  const char* gpu_only;  // options for the GPU run only (the CPU run says --device cpu)
};

class GpuGeometry : public ::testing::TestWithParam<GpuCase> {};

TEST_P(GpuGeometry, MatchesTheCpuPath) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "no usable CUDA device: " << kernels::cuda_status();
  const auto model = slim_x2_model();
  if (model.empty() || !std::filesystem::exists(model))
    GTEST_SKIP() << "esrgan-slim not found (set UPSCALED_TEST_MODELS_DIR; scripts/fetch-test-models.sh)";
  const GpuCase& c = GetParam();
  TempDir tmp;
  const auto clip = tmp / "in.mkv";
  run_ok(std::string("ffmpeg -v error -y -f lavfi -i ") +
         (c.duplicates ? "testsrc=size=161x91:rate=5,fps=25" : "testsrc=size=161x91:rate=25") +
         " -frames:v 15 -pix_fmt yuv420p -c:v ffv1 " + shell_quote(clip.string()));
  const std::string base = shell_quote(upscaled_binary()) + " file " + shell_quote(clip.string()) + " -m " +
                           shell_quote(model.string()) + " -s 2 --crf 0 --no-progress --batch 4 " + c.args + " -o ";
  const CommandResult gpu = run_command(base + shell_quote((tmp / "gpu.mkv").string()) + " " + c.gpu_only);
  ASSERT_EQ(gpu.exit_code, 0) << gpu.output;
  EXPECT_NE(gpu.output.find("colour conversion on the GPU"), std::string::npos) << gpu.output;
  // Its device buffers, pre-resize intermediate and canvas included, were all in the model's
  // reservation (gpu_frame_upscaler_cuda.cpp, check_account).
  EXPECT_EQ(gpu.output.find("exceed what the model's reservation counted"), std::string::npos) << gpu.output;
  const CommandResult cpu = run_command(base + shell_quote((tmp / "cpu.mkv").string()) + " --device cpu");
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;

  EXPECT_EQ(frame_times(tmp / "gpu.mkv"), frame_times(clip));
  EXPECT_EQ(frame_times(tmp / "cpu.mkv"), frame_times(clip));
  const VideoInfo g = probe_video(tmp / "gpu.mkv"), p = probe_video(tmp / "cpu.mkv");
  EXPECT_EQ(g.width, p.width);
  EXPECT_EQ(g.height, p.height);
  EXPECT_EQ(g.sample_aspect_ratio, p.sample_aspect_ratio);
  EXPECT_EQ(skipped(gpu.output), skipped(cpu.output));
  if (c.duplicates) {
    EXPECT_EQ(skipped(gpu.output), "12") << gpu.output;
  }
  const double db = video_psnr(tmp / "gpu.mkv", tmp / "cpu.mkv");
  EXPECT_GE(db, 40.0);
  RecordProperty("psnr_gpu_vs_cpu_db", std::to_string(db));
}

INSTANTIATE_TEST_SUITE_P(
    Options, GpuGeometry,
    ::testing::Values(
        GpuCase{"Outscale1_5", "--outscale 1.5", false, ""}, GpuCase{"Outscale3", "--outscale 3", false, ""},
        GpuCase{"Outscale1_5NoPreResize", "--outscale 1.5 --pre-resize never", false, ""},
        // x2 network output halved: the periodic resize kernel (322x182 -> 161x91).
        GpuCase{"Outscale1NoPreResize", "--outscale 1 --pre-resize never", false, ""},
        GpuCase{"SizeStretch", "--size 300x200", false, ""}, GpuCase{"SizePad", "--size 360x360 --fit pad", false, ""},
        GpuCase{"SizeCrop", "--size 200x200 --fit crop", false, ""}, GpuCase{"Grayscale", "--grayscale", false, ""},
        GpuCase{"SkipDuplicates", "--skip-duplicates", true, ""}, GpuCase{"DeviceIndex", "", false, "--device cuda:0"}),
    [](const ::testing::TestParamInfo<GpuCase>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace upscaled::test
