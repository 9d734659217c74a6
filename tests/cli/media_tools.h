// Helpers for the integration tests: run commands, generate clips with the ffmpeg CLI,
// read facts back with ffprobe. Synchronous; every call blocks until the process exits.
#pragma once

#include "tests/common/temp_dir.h"

#include <filesystem>
#include <string>
#include <vector>

namespace upscaled::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string shell_quote(const std::string& s);
CommandResult run_command(const std::string& command);
// Runs and fails the current test (ADD_FAILURE) when the exit code is not 0.
std::string run_ok(const std::string& command);
bool have_program(const std::string& name);
// tmp / name written by `ffmpeg -v error -y ARGS tmp/name` (run_ok: a failure fails the test).
std::filesystem::path make_clip(const TempDir& tmp, const std::string& name, const std::string& args);

// The upscaled binary under test.
std::string upscaled_binary();

struct VideoInfo {
  int width = 0, height = 0;
  std::string pix_fmt, codec, color_space, color_transfer, color_primaries, color_range, sample_aspect_ratio;
  double rotation = 0;
};

VideoInfo probe_video(const std::filesystem::path& file);
// Presentation times of every video frame, as ffprobe prints them (seconds).
std::vector<std::string> frame_times(const std::filesystem::path& file);
// MD5 over the packets of the selected streams (e.g. "a", "s", "t:0"), stream-copied.
std::string stream_hash(const std::filesystem::path& file, const std::string& spec);
// ffmpeg's average video PSNR between two files in dB (1e9 for identical ones); -1 when
// ffmpeg printed none.
double video_psnr(const std::filesystem::path& a, const std::filesystem::path& b);
// esrgan-slim's x2 model.json under $UPSCALED_TEST_MODELS_DIR; empty when that is unset.
std::filesystem::path slim_x2_model();
// `ffprobe -show_entries <entries>` in flat key=value form.
std::string probe_entries(const std::filesystem::path& file, const std::string& entries);
int count_streams(const std::filesystem::path& file, const std::string& type);

// Copies `in` to `out` (stream copy) adding a display matrix with the given rotation to the
// video stream: FFmpeg 5.1's CLI has no way to write one.
void remux_with_rotation(const std::filesystem::path& in, const std::filesystem::path& out, double degrees);

std::string read_file(const std::filesystem::path& file);

}  // namespace upscaled::test
