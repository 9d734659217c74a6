// io::StagedOutput: the temporary file appears at its final name only at commit(), and
// write_back_early (the early start of the disk writes) changes nothing a reader can see:
// safe before the file exists, while it grows, and after commit().
#include "io/staged_output.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace upscaled::test {
namespace {

std::filesystem::path fresh_dir(const char* name) {
  const auto dir = std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(StagedOutput, EarlyWriteBackKeepsTheContentAndTheCommit) {
  const auto dir = fresh_dir("upscaled-staged-writeback");
  const auto final_path = dir / "out.bin";
  std::string expected;
  {
    io::StagedOutput staged(final_path, false);
    staged.write_back_early();  // the file does not exist yet: nothing to do
    std::ofstream out(staged.temp_path(), std::ios::binary);
    for (int block = 0; block < 8; ++block) {
      const std::string chunk(256 * 1024, static_cast<char>('a' + block));
      out << chunk;
      out.flush();
      expected += chunk;
      staged.write_back_early();
      EXPECT_FALSE(std::filesystem::exists(final_path)) << "visible before commit()";
    }
    out.close();
    staged.commit();
    staged.write_back_early();  // after commit(): nothing to do
    EXPECT_FALSE(std::filesystem::exists(staged.temp_path()));
  }
  EXPECT_EQ(read_all(final_path), expected);
  std::filesystem::remove_all(dir);
}

TEST(StagedOutput, UncommittedFileIsRemovedEvenAfterEarlyWriteBack) {
  const auto dir = fresh_dir("upscaled-staged-uncommitted");
  const auto final_path = dir / "out.bin";
  std::filesystem::path temp;
  {
    io::StagedOutput staged(final_path, false);
    temp = staged.temp_path();
    std::ofstream(temp, std::ios::binary) << std::string(4096, 'x');
    staged.write_back_early();
  }
  EXPECT_FALSE(std::filesystem::exists(temp));
  EXPECT_FALSE(std::filesystem::exists(final_path));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace upscaled::test
