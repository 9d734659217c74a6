// The real `upscaled doctor` binary: exit codes, JSON, corrupted model, CUDA_VISIBLE_DEVICES=.
#include "doctor/codec_cache.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct CliRun {
  int code = -1;
  std::string out;
};

class DoctorCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("doctor-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the binary with its caches/state in this test's folder; stderr is discarded.
  CliRun run(const std::string& args, const std::string& env = "") const {
    const std::string cmd = "env UPSCALED_CACHE_DIR='" + dir_.string() + "/cache' UPSCALED_STATE_DIR='" +
                            dir_.string() + "/state' UPSCALED_MODELS_DIR='" + dir_.string() + "/models' " + env +
                            " '" UPSCALED_BINARY "' doctor " + args + " 2>/dev/null";
    CliRun r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

  static const json* check(const json& report, const std::string& id) {
    for (const auto& c : report["checks"])
      if (c["id"] == id) return &c;
    return nullptr;
  }

  fs::path dir_;
};

}  // namespace

TEST_F(DoctorCli, JsonParsesAndPlanIsConsistent) {
  const auto r = run("--json --model lanczos");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["schema"], "upscaled.doctor/1");
  EXPECT_TRUE(j["can_run"].get<bool>());
  const json* driver = check(j, "driver");
  ASSERT_NE(driver, nullptr);
  // Without a driver every GPU stage says cpu; with one, the plan names a GPU for preprocess.
  if (!(*driver)["details"]["loaded"].get<bool>()) {
    for (const char* s : {"decode", "preprocess", "infer", "encode"}) EXPECT_EQ(j["plan"][s]["device"], "cpu") << s;
    EXPECT_EQ(j["plan"]["cuda_device"], -1);
  }
}

TEST_F(DoctorCli, TableNamesEveryCheckAndThePlan) {
  const auto r = run("--model lanczos");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* needle : {"CHECK", "driver", "gpu", "nvdec.h264", "nvenc.hevc_nvenc", "ffmpeg.libs", "model",
                             "env.cuda_visible_devices", "PLAN", "preprocess", "can run"})
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
}

TEST_F(DoctorCli, HiddenGpusGiveCpuFallbackAndRequireGpuFailsWith7) {
  // CUDA_VISIBLE_DEVICES= hides every GPU on any machine: the GPU machine takes this path too.
  auto r = run("--json --model lanczos", "CUDA_VISIBLE_DEVICES=");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = json::parse(r.out);
  const json* trap = check(j, "env.cuda_visible_devices");
  ASSERT_NE(trap, nullptr);
  EXPECT_EQ((*trap)["status"], "warn");
  EXPECT_TRUE((*trap)["details"]["hides_all"].get<bool>());
  EXPECT_EQ(j["plan"]["preprocess"]["device"], "cpu");
  EXPECT_TRUE(j["plan"]["preprocess"]["fallback"].get<bool>());

  r = run("--json --model lanczos --require-gpu", "CUDA_VISIBLE_DEVICES=");
  EXPECT_EQ(r.code, 7) << r.out;
  j = json::parse(r.out);
  EXPECT_FALSE(j["can_run"].get<bool>());
  EXPECT_EQ(j["exit_code"], 7);
  EXPECT_NE(j["verdict"].get<std::string>().find("--require-gpu"), std::string::npos);
}

TEST_F(DoctorCli, RequireGpuOnThisMachine) {
  const auto plain = json::parse(run("--json --model lanczos").out);
  const bool gpu = plain["plan"]["preprocess"]["gpu"].get<bool>();
  const auto r = run("--json --model lanczos --require-gpu");
  if (!gpu) {
    EXPECT_EQ(r.code, 7) << r.out;  // CI: no GPU, so --require-gpu must refuse
  } else {
    // GPU machine: 0 unless some stage still falls back (then 7 with the reason).
    const auto j = json::parse(r.out);
    bool fallback = false;
    for (const char* s : {"decode", "preprocess", "infer", "encode"}) fallback |= j["plan"][s]["fallback"].get<bool>();
    EXPECT_EQ(r.code, fallback ? 7 : 0) << r.out;
  }
}

TEST_F(DoctorCli, CorruptedModelFilesFailTheirCheck) {
  const fs::path pth = dir_ / "broken.pth";
  std::ofstream(pth, std::ios::binary) << "PK\x03\x04 this is not a zip archive of tensors";
  auto r = run("--json --model '" + pth.string() + "'");
  EXPECT_EQ(r.code, 6) << r.out;
  auto j = json::parse(r.out);
  const json* m = check(j, "model");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ((*m)["status"], "fail");
  EXPECT_TRUE((*m)["blocking"].get<bool>());
  EXPECT_EQ((*m)["details"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_FALSE(j["can_run"].get<bool>());

  // A TF.js model.json that is not JSON.
  fs::create_directories(dir_ / "tfjs");
  std::ofstream(dir_ / "tfjs" / "model.json") << "{\"format\": \"layers-model\", truncated";
  r = run("--json --model '" + (dir_ / "tfjs" / "model.json").string() + "'");
  EXPECT_EQ(r.code, 6) << r.out;
  EXPECT_EQ((*check(json::parse(r.out), "model"))["status"], "fail");

  r = run("--json --model '" + (dir_ / "absent.pth").string() + "'");
  EXPECT_EQ(r.code, 6);
  EXPECT_NE((*check(json::parse(r.out), "model"))["summary"].get<std::string>().find("does not exist"),
            std::string::npos);
}

TEST_F(DoctorCli, DefaultModelNotFetchedFailsWithTheFetchCommand) {
  // The models folder of this test is empty: the registry's default model is not there.
  const auto r = run("--json");
  EXPECT_EQ(r.code, 6) << r.out;
  const auto j = json::parse(r.out);
  const json* m = check(j, "model");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ((*m)["status"], "fail");
  EXPECT_NE((*m)["summary"].get<std::string>().find("models fetch"), std::string::npos) << (*m)["summary"];
}

TEST_F(DoctorCli, UnwritableCacheFolderIsReported) {
  std::ofstream(dir_ / "not-a-folder") << "x";
  const auto r = run("--json --model lanczos --cache-dir '" + (dir_ / "not-a-folder").string() + "'");
  ASSERT_EQ(r.code, 0) << r.out;  // a cache is optional: warn, still runnable
  EXPECT_EQ((*check(json::parse(r.out), "env.cache_dir"))["status"], "warn");
}

TEST(CodecCache, RoundTripAndKeyMismatch) {
  const fs::path dir = fs::temp_directory_path() / ("doctor-cache-" + std::to_string(::getpid()));
  using namespace upscaled::doctor;
  CodecProbes probes;
  probes.nvdec.push_back({"h264", "h264_cuvid", true, ""});
  probes.nvenc.push_back({"h264_nvenc", "h264_nvenc", false, "OpenEncodeSessionEx failed: unsupported device (2)"});
  CodecCacheKey key{"580.65.06", 13000, "NVIDIA H100 80GB HBM3", "<unset>", 0};
  const auto file = codec_cache_file(dir);
  ASSERT_TRUE(store_codec_cache(file, key, probes));
  auto loaded = load_codec_cache(file, key);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(loaded->from_cache);
  ASSERT_EQ(loaded->nvenc.size(), 1u);
  EXPECT_EQ(loaded->nvenc[0].reason, probes.nvenc[0].reason);
  EXPECT_TRUE(loaded->find_nvdec("h264")->ok);

  auto other = key;
  other.driver_version = "590.10";  // a driver upgrade invalidates the cache
  EXPECT_FALSE(load_codec_cache(file, other).has_value());
  std::ofstream(file, std::ios::trunc) << "{ corrupt";
  EXPECT_FALSE(load_codec_cache(file, key).has_value());
  fs::remove_all(dir);
}
