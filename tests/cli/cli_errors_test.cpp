// Every bad input: a one-line error naming the file, the documented exit code
// (docs/exit-codes.md), nothing at OUT, nothing temporary left, the input untouched.
#include "media_tools.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace upscaled::test {
namespace {

constexpr int kUsage = 2, kInputMissing = 3, kInputInvalid = 4, kOutput = 5;

class BadInput : public ::testing::Test {
 protected:
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }

  // A valid 10-frame H.264 clip.
  std::filesystem::path good_clip() {
    const auto p = path("good.mp4");
    if (!std::filesystem::exists(p))
      run_ok("ffmpeg -v error -y -f lavfi -i testsrc2=size=64x36:rate=25 -frames:v 10 -c:v libx264 -preset ultrafast " +
             shell_quote(p.string()));
    return p;
  }

  // Runs `upscaled file` and checks everything every failure must satisfy.
  std::string expect_failure(const std::filesystem::path& input, const std::filesystem::path& output, int code,
                             const std::string& names, const std::string& extra = "-m bilinear -s 2") {
    const bool output_existed = std::filesystem::exists(output);
    const std::string before = output_existed ? read_file(output) : "";
    const CommandResult r = run_command(shell_quote(upscaled_binary()) + " file " + shell_quote(input.string()) +
                                        " -o " + shell_quote(output.string()) + " " + extra);
    EXPECT_EQ(r.exit_code, code) << r.output;
    // The error is one line naming the file (start-up checks may log info lines before it).
    std::string last;
    int error_lines = 0;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      if (line.find("upscaled: error") != std::string::npos) {
        ++error_lines;
        last = line;
      }
    EXPECT_EQ(error_lines, 1) << "expected a single error line, got:\n" << r.output;
    EXPECT_NE(last.find(names), std::string::npos) << "message should name " << names << ": " << last;
    if (output_existed)
      EXPECT_EQ(read_file(output), before) << "an existing output must be left alone";
    else
      EXPECT_FALSE(std::filesystem::exists(output)) << "nothing may be left at OUT";
    if (std::filesystem::is_directory(output.parent_path())) {
      for (const auto& e : std::filesystem::directory_iterator(output.parent_path())) {
        EXPECT_EQ(e.path().filename().string().find(".upscaled-tmp-"), std::string::npos) << e.path();
      }
    }
    return last;
  }

  TempDir tmp_;
  const std::filesystem::path& dir_ = tmp_.path();
};

TEST_F(BadInput, MissingFile) {
  const std::string msg = expect_failure(path("nope.mp4"), path("out.mp4"), kInputMissing, "nope.mp4");
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
}

TEST_F(BadInput, ZeroBytes) {
  write("empty.mp4", "");
  const std::string msg = expect_failure(path("empty.mp4"), path("out.mp4"), kInputInvalid, "empty.mp4");
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

TEST_F(BadInput, NotMedia) {
  write("notes.mp4", "This is a shopping list, not a video.\nmilk\neggs\n");
  const std::string msg = expect_failure(path("notes.mp4"), path("out.mp4"), kInputInvalid, "notes.mp4");
  EXPECT_NE(msg.find("not a readable media file"), std::string::npos) << msg;
}

TEST_F(BadInput, TruncatedMp4) {
  const std::string full = read_file(good_clip());
  write("cut.mp4", full.substr(0, full.size() / 2));
  expect_failure(path("cut.mp4"), path("out.mp4"), kInputInvalid, "cut.mp4");
}

TEST_F(BadInput, NoVideoStream) {
  run_ok("ffmpeg -v error -y -f lavfi -i sine=duration=1 -c:a aac " + shell_quote(path("voice.m4a").string()));
  const std::string msg = expect_failure(path("voice.m4a"), path("out.mp4"), kInputInvalid, "voice.m4a");
  EXPECT_NE(msg.find("no video stream"), std::string::npos) << msg;
}

TEST_F(BadInput, UnsupportedVideoCodec) {
  // An AVI whose video FourCC no decoder knows.
  run_ok("ffmpeg -v error -y -i " + shell_quote(good_clip().string()) + " -c copy -tag:v ZZZZ -strict experimental " +
         shell_quote(path("alien.avi").string()));
  const std::string msg = expect_failure(path("alien.avi"), path("out.mp4"), kInputInvalid, "alien.avi");
  EXPECT_NE(msg.find("unsupported video codec"), std::string::npos) << msg;
}

TEST_F(BadInput, OutputFolderMissing) {
  const std::string msg = expect_failure(good_clip(), path("no/such/folder/out.mp4"), kOutput, "no/such/folder");
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
}

TEST_F(BadInput, OutputFolderNotWritable) {
  if (::geteuid() == 0) {
    // Root writes through permission bits; /proc is a folder nobody can create files in.
    expect_failure(good_clip(), "/proc/upscaled-out.mp4", kOutput, "upscaled-out.mp4");
    return;
  }
  std::filesystem::create_directory(path("ro"));
  std::filesystem::permissions(path("ro"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  const std::string msg = expect_failure(good_clip(), path("ro/out.mp4"), kOutput, "ro");
  EXPECT_NE(msg.find("not writable"), std::string::npos) << msg;
}

TEST_F(BadInput, ExistingOutputWithoutOverwrite) {
  write("taken.mp4", "precious");
  const std::string msg = expect_failure(good_clip(), path("taken.mp4"), kOutput, "taken.mp4");
  EXPECT_NE(msg.find("--overwrite"), std::string::npos) << msg;
}

TEST_F(BadInput, OutputEqualToInputIsRefused) {
  const auto clip = good_clip();
  const std::string before = read_file(clip);
  expect_failure(clip, clip, kOutput, "good.mp4", "-m bilinear --overwrite");
  EXPECT_EQ(read_file(clip), before);
  // The same file through another spelling of its path.
  expect_failure(clip, dir_ / "." / "good.mp4", kOutput, "good.mp4", "-m bilinear --overwrite");
  EXPECT_EQ(read_file(clip), before);
}

TEST_F(BadInput, BadSizeIsAUsageError) {
  expect_failure(good_clip(), path("out.mp4"), kUsage, "--size", "-m bilinear --size 12by7");
}

TEST_F(BadInput, UnknownModel) {
  expect_failure(good_clip(), path("out.mp4"), 6, "nonexistent-model", "-m nonexistent-model");
}

}  // namespace
}  // namespace upscaled::test
