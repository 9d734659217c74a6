// The memory-cost cache file: a round trip per key, other keys kept, misses (no file, other
// key, corrupt file, unusable values) that are never errors, the oldest entries dropped past
// the limit, and false (no throw) where the folder cannot be written.
#include "core/memory_cost_cache.h"
#include "tests/common/temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace upscaled::model {
namespace {

using test::TempDir;

TEST(MemoryCostCache, StoresAndLoadsEachKeyAndKeepsTheOthers) {
  TempDir tmp;
  const auto file = tmp.path() / "sub" / "memory-costs.json";
  EXPECT_FALSE(load_memory_cost(file, "a"));
  ASSERT_TRUE(store_memory_cost(file, "a", {64.0 * 1024 * 1024, 3031.5}));
  ASSERT_TRUE(store_memory_cost(file, "b", {1.0, 2.0}));
  const auto a = load_memory_cost(file, "a");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(a->fixed, 64.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(a->per_pixel, 3031.5);
  const auto b = load_memory_cost(file, "b");
  ASSERT_TRUE(b);
  EXPECT_DOUBLE_EQ(b->per_pixel, 2.0);
  EXPECT_FALSE(load_memory_cost(file, "c"));
  ASSERT_TRUE(store_memory_cost(file, "a", {5.0, 6.0}));  // a new measurement replaces the old
  EXPECT_DOUBLE_EQ(load_memory_cost(file, "a")->per_pixel, 6.0);
  EXPECT_DOUBLE_EQ(load_memory_cost(file, "b")->per_pixel, 2.0);
  for (const auto& e : std::filesystem::directory_iterator(file.parent_path()))
    EXPECT_EQ(e.path().filename(), "memory-costs.json") << "left behind: " << e.path();
}

TEST(MemoryCostCache, CorruptOrForeignFilesAndUnusableValuesAreMisses) {
  TempDir tmp;
  const auto file = tmp.path() / "memory-costs.json";
  for (const char* text : {"{not json", R"({"schema": 2, "entries": {"a": {"fixed": 1, "per_pixel": 2}}})",
                           R"({"schema": 1, "entries": []})", R"({"schema": 1, "entries": {"a": {"fixed": 1}}})",
                           R"({"schema": 1, "entries": {"a": {"fixed": 1, "per_pixel": 0}}})",
                           R"({"schema": 1, "entries": {"a": {"fixed": -1, "per_pixel": 2}}})",
                           R"({"schema": 1, "entries": {"a": {"fixed": "x", "per_pixel": 2}}})"}) {
    std::ofstream(file) << text;
    EXPECT_FALSE(load_memory_cost(file, "a")) << text;
  }
  // A corrupt file is replaced by the next store.
  std::ofstream(file) << "{not json";
  ASSERT_TRUE(store_memory_cost(file, "a", {1.0, 2.0}));
  EXPECT_DOUBLE_EQ(load_memory_cost(file, "a")->per_pixel, 2.0);
}

TEST(MemoryCostCache, DropsTheOldestEntriesPastTheLimit) {
  TempDir tmp;
  const auto file = tmp.path() / "memory-costs.json";
  for (std::size_t i = 0; i < kMaxMemoryCostEntries + 3; ++i)
    ASSERT_TRUE(store_memory_cost(file, "k" + std::to_string(i), {1.0, 1.0 + i}));
  std::size_t kept = 0;
  for (std::size_t i = 0; i < kMaxMemoryCostEntries + 3; ++i)
    kept += load_memory_cost(file, "k" + std::to_string(i)) ? 1 : 0;
  EXPECT_EQ(kept, kMaxMemoryCostEntries);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_FALSE(load_memory_cost(file, "k" + std::to_string(i))) << i;
  EXPECT_TRUE(load_memory_cost(file, "k3"));
}

TEST(MemoryCostCache, AnUnwritableFolderIsFalseNotAnError) {
  TempDir tmp;
  const auto blocker = tmp.path() / "file";
  std::ofstream(blocker) << "x";  // a file where the folder should be
  EXPECT_FALSE(store_memory_cost(blocker / "memory-costs.json", "a", {1.0, 2.0}));
  EXPECT_FALSE(load_memory_cost(blocker / "memory-costs.json", "a"));
}

}  // namespace
}  // namespace upscaled::model
