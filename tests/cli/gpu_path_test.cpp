// The GPU frame path against the CPU path on the same clip (runs on a CUDA machine with the
// UpscalerJS packages; skips visibly elsewhere).
#include "kernels/backend.h"
#include "media_tools.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace upscaled::test {
namespace {

// The esrgan-slim x2 model when this machine can run the GPU path; empty with *why otherwise.
std::filesystem::path gpu_path_model(std::string* why) {
  if (!kernels::cuda_usable()) {
    *why = "no usable CUDA device: " + std::string(kernels::cuda_status());
    return {};
  }
  auto model = slim_x2_model();
  if (model.empty() || !std::filesystem::exists(model)) {
    *why = "esrgan-slim not found (set UPSCALED_TEST_MODELS_DIR; scripts/fetch-test-models.sh)";
    return {};
  }
  return model;
}

// `upscaled file CLIP -m MODEL -s 2 --crf 0 --no-progress -o ` (the output path goes last).
std::string file_command(const std::filesystem::path& clip, const std::filesystem::path& model) {
  return shell_quote(upscaled_binary()) + " file " + shell_quote(clip.string()) + " -m " + shell_quote(model.string()) +
         " -s 2 --crf 0 --no-progress -o ";
}

TEST(GpuPath, MatchesTheCpuPathFramesTimestampsAndAudio) {
  std::string why;
  const auto model = gpu_path_model(&why);
  if (model.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  const auto clip = make_clip(tmp, "in.mp4",
                              "-f lavfi -i testsrc2=size=160x96:rate=25 -f lavfi -i sine -frames:v 12 -t 0.48 "
                              "-c:v libx264 -c:a aac");
  const std::string base = file_command(clip, model);
  const CommandResult gpu = run_command(base + shell_quote((tmp / "gpu.mkv").string()));
  ASSERT_EQ(gpu.exit_code, 0) << gpu.output;
  EXPECT_NE(gpu.output.find("colour conversion on the GPU"), std::string::npos) << gpu.output;
  const CommandResult cpu = run_command(base + shell_quote((tmp / "cpu.mkv").string()) + " --device cpu");
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  EXPECT_NE(cpu.output.find("colour conversion on the CPU (--device cpu)"), std::string::npos) << cpu.output;

  EXPECT_EQ(frame_times(tmp / "gpu.mkv"), frame_times(tmp / "cpu.mkv"));
  EXPECT_EQ(stream_hash(tmp / "gpu.mkv", "a"), stream_hash(clip, "a"));
  EXPECT_EQ(stream_hash(tmp / "cpu.mkv", "a"), stream_hash(clip, "a"));
  const double db = video_psnr(tmp / "gpu.mkv", tmp / "cpu.mkv");
  EXPECT_GE(db, 40.0);
  RecordProperty("psnr_gpu_vs_cpu_db", std::to_string(db));
}

// The staged GPU path: batches that do not divide the clip, one batch per queue, --stats
// listing preprocess / infer / postprocess, a full first batch; the output matches the CPU
// path's frames.
TEST(GpuPath, StagesDrainPartialBatchesAndReportTheirTimes) {
  std::string why;
  const auto model = gpu_path_model(&why);
  if (model.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  const auto clip = make_clip(tmp, "in.mp4", "-f lavfi -i testsrc2=size=160x96:rate=25 -frames:v 23 -c:v libx264");
  const std::string base = file_command(clip, model);
  const CommandResult gpu = run_command(base + shell_quote((tmp / "gpu.mkv").string()) +
                                        " --batch 5 --batch-queue 1 --stats --log-level debug");
  ASSERT_EQ(gpu.exit_code, 0) << gpu.output;
  for (const char* stage : {"preprocess ", "infer ", "postprocess ", "bottleneck:", "23 frames in", "start-up:"})
    EXPECT_NE(gpu.output.find(stage), std::string::npos) << stage << " missing from --stats:\n" << gpu.output;
  EXPECT_NE(gpu.output.find("infer: batch 1 of 5 frames"), std::string::npos) << gpu.output;
  // infer queues each batch without waiting for it: its busy time is the network's GPU time,
  // read from the batch's events (the last column), not "-".
  const auto infer_row = gpu.output.find("\ninfer ");
  ASSERT_NE(infer_row, std::string::npos) << gpu.output;
  const std::string row = gpu.output.substr(infer_row + 1, gpu.output.find('\n', infer_row + 1) - infer_row - 1);
  EXPECT_NE(row.back(), '-') << row;
  const CommandResult cpu = run_command(base + shell_quote((tmp / "cpu.mkv").string()) + " --device cpu");
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  EXPECT_EQ(frame_times(tmp / "gpu.mkv"), frame_times(tmp / "cpu.mkv"));
  EXPECT_GE(video_psnr(tmp / "gpu.mkv", tmp / "cpu.mkv"), 40.0);
}

// The model's device-memory cost is measured by the first run and read back by the next
// (core/memory_cost_cache.h), which plans the same reservation; either pays the network's
// first-call costs on a thread of its own while the pipeline starts.
TEST(GpuPath, MemoryCostIsMeasuredOnceAndReadBackByTheNextRun) {
  std::string why;
  const auto model = gpu_path_model(&why);
  if (model.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  const auto clip = make_clip(tmp, "in.mp4", "-f lavfi -i testsrc2=size=160x96:rate=25 -frames:v 4 -c:v libx264");
  const std::string command = "UPSCALED_CACHE_DIR=" + shell_quote((tmp / "cache").string()) + " " +
                              file_command(clip, model) + shell_quote((tmp / "out.mkv").string()) +
                              " --overwrite --log-level debug";
  const CommandResult first = run_command(command);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("per call (measured in"), std::string::npos) << first.output;
  EXPECT_TRUE(std::filesystem::exists(tmp / "cache" / "memory-costs.json"));
  const CommandResult second = run_command(command);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("per call (measured by an earlier run"), std::string::npos) << second.output;
  // The network's first-call costs are paid beside the pipeline's start: primed at the batch
  // shape where the network can (the cuDNN executor), else a 64x64 run when nothing has run
  // the network yet (the second run: no measurement).
  EXPECT_EQ(first.output.find("first run (64x64)"), std::string::npos) << first.output;
  EXPECT_TRUE(second.output.find("primed for ") != std::string::npos ||
              second.output.find("first run (64x64)") != std::string::npos)
      << second.output;
  // The priming's scratch is stream-ordered and given back: nothing of it stays in libtorch's cache.
  if (second.output.find("primed for ") != std::string::npos) {
    EXPECT_NE(second.output.find("libtorch's cache grew by 0 MiB"), std::string::npos) << second.output;
  }
  auto reserved = [](const std::string& out) {
    const auto at = out.find(" of GPU memory reserved");
    return at == std::string::npos ? std::string() : out.substr(out.rfind("': ", at), at - out.rfind("': ", at));
  };
  EXPECT_FALSE(reserved(first.output).empty()) << first.output;
  EXPECT_EQ(reserved(first.output), reserved(second.output));
}

// SIGINT while the GPU stages run: exit 130, every stage thread ends, nothing left behind.
TEST(GpuPath, CancelWhileTheStagesRunLeavesNothing) {
  std::string why;
  const auto model = gpu_path_model(&why);
  if (model.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  // Long enough that it cannot finish before the signal (tens of seconds of encoding).
  const auto clip = make_clip(
      tmp, "in.mp4", "-f lavfi -i testsrc2=size=640x360:rate=30 -frames:v 3000 -c:v libx264 -preset ultrafast");
  const auto out_dir = tmp / "out";
  std::filesystem::create_directories(out_dir);
  const CommandResult r = run_command("timeout --preserve-status -s INT 6 " + shell_quote(upscaled_binary()) +
                                      " file " + shell_quote(clip.string()) + " -m " + shell_quote(model.string()) +
                                      " -s 2 --no-progress -o " + shell_quote((out_dir / "out.mkv").string()));
  EXPECT_EQ(r.exit_code, 130) << r.output;
  // The forwarder turned the signal into a cancel (the process was not killed by it).
  EXPECT_NE(r.output.find("cancelling"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("colour conversion on the GPU"), std::string::npos) << r.output;
  for (const auto& e : std::filesystem::directory_iterator(out_dir))
    ADD_FAILURE() << "left behind: " << e.path() << "\n" << r.output;
}

}  // namespace
}  // namespace upscaled::test
