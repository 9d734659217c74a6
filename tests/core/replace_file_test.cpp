// replace_file(): the folder made when missing, the file replaced whole, no temporary file
// left behind, and false (no throw) where nothing can be written.
#include "core/replace_file.h"
#include "tests/common/temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace upscaled {
namespace {

using test::TempDir;

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReplaceFile, MakesTheFolderAndReplacesTheFileWhole) {
  TempDir tmp;
  const auto file = tmp.path() / "a" / "b" / "state.json";
  ASSERT_TRUE(replace_file(file, "first, and longer\n"));
  EXPECT_EQ(read(file), "first, and longer\n");
  ASSERT_TRUE(replace_file(file, "second\n"));
  EXPECT_EQ(read(file), "second\n");
  ASSERT_TRUE(replace_file(file, ""));
  EXPECT_EQ(read(file), "");
  for (const auto& e : std::filesystem::directory_iterator(file.parent_path()))
    EXPECT_EQ(e.path().filename(), "state.json") << "left behind: " << e.path();
}

TEST(ReplaceFile, FalseWhereNothingCanBeWritten) {
  TempDir tmp;
  const auto blocker = tmp.path() / "file";
  std::ofstream(blocker) << "x";  // a file where the folder should be
  EXPECT_FALSE(replace_file(blocker / "state.json", "text"));
  // The target is a folder: the temporary file is written, the rename fails, and it goes.
  const auto folder = tmp.path() / "folder";
  std::filesystem::create_directories(folder / "inside");
  EXPECT_FALSE(replace_file(folder, "text"));
  for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
    EXPECT_TRUE(e.path().filename() == "file" || e.path().filename() == "folder") << "left behind: " << e.path();
}

}  // namespace
}  // namespace upscaled
