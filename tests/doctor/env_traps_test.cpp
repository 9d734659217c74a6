// Environment traps on crafted values: CUDA_VISIBLE_DEVICES, LD_LIBRARY_PATH, folders.
#include "doctor/env_traps.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace upscaled::doctor;

TEST(CudaVisibleDevices, UnsetHidesNothing) {
  auto v = parse_cuda_visible_devices(std::nullopt);
  EXPECT_FALSE(v.set);
  EXPECT_FALSE(v.hides_all);
  EXPECT_EQ(cuda_visible_devices_check(std::nullopt, 1).status, Status::ok);
}

TEST(CudaVisibleDevices, EmptyOrInvalidFirstEntryHidesAll) {
  for (const char* value : {"", " ", "-1", "none", "NoDevFiles", "-1,0", ",0"}) {
    auto v = parse_cuda_visible_devices(std::string(value));
    EXPECT_TRUE(v.set) << value;
    EXPECT_TRUE(v.hides_all) << "'" << value << "'";
    const auto c = cuda_visible_devices_check(std::string(value), 2);
    EXPECT_EQ(c.status, Status::warn) << value;
    EXPECT_TRUE(c.details["hides_all"].get<bool>());
    EXPECT_NE(c.summary.find("every GPU is hidden"), std::string::npos) << c.summary;
    EXPECT_NE(c.action.find("CUDA_VISIBLE_DEVICES"), std::string::npos);
  }
}

TEST(CudaVisibleDevices, ListStopsAtFirstInvalidEntry) {
  auto v = parse_cuda_visible_devices(std::string("0, 2,-1,3"));
  EXPECT_FALSE(v.hides_all);
  EXPECT_EQ(v.entries, (std::vector<std::string>{"0", "2"}));
  auto u = parse_cuda_visible_devices(std::string("GPU-8f3e2a1c-aaaa,MIG-1234"));
  EXPECT_EQ(u.entries.size(), 2u);
  EXPECT_EQ(cuda_visible_devices_check(std::string("0"), 1).status, Status::ok);
}

TEST(CudaVisibleDevices, IndexPastThePhysicalCountHidesAll) {
  const auto c = cuda_visible_devices_check(std::string("3"), 2);
  EXPECT_EQ(c.status, Status::warn);
  EXPECT_TRUE(c.details["hides_all"].get<bool>());
  // Unknown physical count (no NVML): an index alone proves nothing.
  EXPECT_EQ(cuda_visible_devices_check(std::string("3"), -1).status, Status::ok);
}

namespace {
ListDir fake_dirs(std::map<std::string, std::vector<std::string>> listing) {
  return [listing](const std::string& dir) {
    auto it = listing.find(dir);
    return it == listing.end() ? std::vector<std::string>{} : it->second;
  };
}
}  // namespace

TEST(LdLibraryPath, MixedCudaVersionsWarn) {
  const std::string value = "/usr/local/cuda-11.8/lib64:/opt/lib:/usr/local/cuda-12.4/targets/x86_64-linux/lib";
  const auto dirs = cuda_dirs_in_library_path(value, fake_dirs({}));
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0].version, "11.8");
  EXPECT_EQ(dirs[1].version, "12.4");
  const auto c = ld_library_path_check(value, fake_dirs({}));
  EXPECT_EQ(c.status, Status::warn);
  EXPECT_NE(c.summary.find("11.8"), std::string::npos);
  EXPECT_NE(c.summary.find("12.4"), std::string::npos);
}

TEST(LdLibraryPath, VersionFromLibcudartInUnnamedFolder) {
  const auto list = fake_dirs({{"/opt/a", {"libfoo.so", "libcudart.so.12.4.127"}}, {"/opt/b", {"libcudart.so.11.0"}}});
  const auto dirs = cuda_dirs_in_library_path("/opt/a:/opt/b:/opt/c", list);
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0].version, "12");
  EXPECT_EQ(dirs[1].version, "11");
  EXPECT_TRUE(cuda_versions_conflict(dirs));
}

TEST(LdLibraryPath, OneVersionIsFine) {
  const auto list = fake_dirs({{"/opt/torch/lib", {"libcudart.so.12"}}});
  const std::string value = "/usr/local/cuda-12.8/lib64:/opt/torch/lib";
  EXPECT_FALSE(cuda_versions_conflict(cuda_dirs_in_library_path(value, list)));
  EXPECT_EQ(ld_library_path_check(value, list).status, Status::ok);
  EXPECT_EQ(ld_library_path_check(std::nullopt, list).status, Status::ok);
  // Two minor versions of one major still mix libraries.
  EXPECT_TRUE(cuda_versions_conflict(cuda_dirs_in_library_path("/a/cuda-12.4/lib:/b/cuda-12.8/lib", list)));
}

TEST(Folders, WritableAbsentAndBlocked) {
  namespace fs = std::filesystem;
  const fs::path base = fs::temp_directory_path() / ("doctor-folders-" + std::to_string(::getpid()));
  fs::create_directories(base);
  EXPECT_EQ(folder_check("env.x", "cache", base, "set X").status, Status::ok);
  const auto absent = folder_check("env.x", "cache", base / "a" / "b", "set X");
  EXPECT_EQ(absent.status, Status::ok);
  EXPECT_FALSE(absent.details["exists"].get<bool>());
  // A regular file where the folder (or its parent) should be: neither usable nor creatable,
  // whatever the user's privileges (these tests may run as root, which ignores modes).
  std::ofstream(base / "file") << "x";
  const auto is_file = folder_check("env.x", "state", base / "file", "set X");
  EXPECT_EQ(is_file.status, Status::warn);
  EXPECT_NE(is_file.summary.find("not a folder"), std::string::npos) << is_file.summary;
  const auto under_file = folder_check("env.x", "state", base / "file" / "sub", "set X");
  EXPECT_EQ(under_file.status, Status::warn);
  EXPECT_NE(under_file.action.find("set X"), std::string::npos);
  fs::remove_all(base);
}
