// The real report on this machine, and its JSON schema (keys pinned).
#include "doctor/codec_probe.h"
#include "doctor/doctor.h"
#include "doctor/report_output.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

using namespace upscaled::doctor;
using nlohmann::json;

namespace {

std::filesystem::path temp_cache() {
  auto dir = std::filesystem::temp_directory_path() / ("doctor-report-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

// Independent of doctor's own code: can this process load the driver library at all?
bool driver_loadable() {
  void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h) dlclose(h);
  return h != nullptr;
}

std::vector<std::string> nvdec_ids() {
  std::vector<std::string> ids;
  for (const auto& c : nvdec_codecs()) ids.push_back("nvdec." + c);
  return ids;
}

const Check* find(const Report& r, const std::string& id) {
  for (const auto& c : r.checks)
    if (c.id == id) return &c;
  return nullptr;
}

std::set<std::string> keys(const json& j) {
  std::set<std::string> k;
  for (auto it = j.begin(); it != j.end(); ++it) k.insert(it.key());
  return k;
}

}  // namespace

TEST(Report, RealReportMatchesThisMachine) {
  StartupOptions o;
  o.model.name = "lanczos";
  o.cache_dir = temp_cache();
  const auto r = run_checks(o, Depth::full);
  const Check* driver = find(r, "driver");
  ASSERT_NE(driver, nullptr);
  EXPECT_EQ(driver->details["loaded"].get<bool>(), driver_loadable());
  ASSERT_NE(find(r, "gpu"), nullptr);
  ASSERT_NE(find(r, "ffmpeg.libs"), nullptr);
  ASSERT_NE(find(r, "model"), nullptr);
  EXPECT_EQ(find(r, "model")->status, Status::ok) << find(r, "model")->summary;  // lanczos
  for (const auto& c : nvdec_ids()) ASSERT_NE(find(r, c), nullptr) << c;
  for (const auto& e : nvenc_encoders()) ASSERT_NE(find(r, "nvenc." + e), nullptr) << e;
  if (!driver_loadable()) {
    // The CI case: no GPU, says so, and every GPU stage falls back to the CPU.
    EXPECT_EQ(driver->status, Status::warn);
    EXPECT_NE(driver->summary.find("no NVIDIA driver"), std::string::npos) << driver->summary;
    EXPECT_EQ(find(r, "gpu")->status, Status::warn);
    for (const auto* s : r.plan.stages()) EXPECT_EQ(s->device, "cpu") << s->stage;
    EXPECT_TRUE(r.plan.preprocess.fallback);
    EXPECT_EQ(r.plan.cuda_device, -1);
    for (const auto& id : nvdec_ids()) EXPECT_EQ(find(r, id)->status, Status::warn) << id;
    EXPECT_TRUE(r.can_run);
    EXPECT_EQ(r.exit_code, upscaled::ErrorCode::ok);
  }
  std::filesystem::remove_all(o.cache_dir);
}

TEST(Report, RequireGpuWithoutGpuIsExitCode7) {
  if (driver_loadable())
    GTEST_SKIP() << "a driver is present here; the CLI test covers this with CUDA_VISIBLE_DEVICES=";
  StartupOptions o;
  o.model.name = "lanczos";
  o.cache_dir = temp_cache();
  o.require_gpu = true;
  const auto r = run_checks(o, Depth::startup);
  EXPECT_FALSE(r.can_run);
  EXPECT_EQ(r.exit_code, upscaled::ErrorCode::gpu_required);
  try {
    startup_check(o);
    FAIL() << "startup_check did not throw";
  } catch (const upscaled::Error& e) {
    EXPECT_EQ(e.code(), upscaled::ErrorCode::gpu_required);
    EXPECT_NE(std::string(e.what()).find("--require-gpu"), std::string::npos) << e.what();
  }
  // Without require_gpu the same machine gets a CPU plan and no exception.
  o.require_gpu = false;
  const auto plan = startup_check(o);
  EXPECT_EQ(plan.preprocess.device, "cpu");
  std::filesystem::remove_all(o.cache_dir);
}

TEST(Report, JsonSchemaKeysArePinned) {
  StartupOptions o;
  o.model.name = "lanczos";
  o.cache_dir = temp_cache();
  const auto j = json::parse(report_json(run_checks(o, Depth::startup)).dump());
  EXPECT_EQ(j["schema"], "upscaled.doctor/1");
  EXPECT_EQ(keys(j), (std::set<std::string>{"schema", "can_run", "exit_code", "require_gpu", "verdict", "counts",
                                            "plan", "checks", "elapsed_ms"}));
  EXPECT_EQ(keys(j["counts"]), (std::set<std::string>{"ok", "warn", "fail"}));
  EXPECT_EQ(keys(j["plan"]), (std::set<std::string>{"cuda_device", "encoder", "nvdec_codecs", "decode", "preprocess",
                                                    "infer", "encode"}));
  for (const char* stage : {"decode", "preprocess", "infer", "encode"})
    EXPECT_EQ(keys(j["plan"][stage]), (std::set<std::string>{"device", "gpu", "fallback", "reason"})) << stage;
  ASSERT_TRUE(j["checks"].is_array());
  ASSERT_FALSE(j["checks"].empty());
  std::set<std::string> ids;
  for (const auto& c : j["checks"]) {
    EXPECT_EQ(keys(c), (std::set<std::string>{"id", "group", "status", "blocking", "summary", "action", "details"}));
    EXPECT_TRUE(c["status"] == "ok" || c["status"] == "warn" || c["status"] == "fail") << c["status"];
    ids.insert(c["id"].get<std::string>());
  }
  for (const char* id :
       {"driver", "gpu", "ffmpeg.libs", "ffmpeg.encoders", "ffmpeg.decoders", "env.cuda_visible_devices",
        "env.ld_library_path", "env.models_dir", "env.state_dir", "env.cache_dir"})
    EXPECT_TRUE(ids.count(id)) << id;
  std::filesystem::remove_all(o.cache_dir);
}
