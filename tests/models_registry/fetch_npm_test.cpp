// npm-source fetching with the real `npm pack` of @upscalerjs/esrgan-slim@1.0.0 (about 4 MB):
// every scale installed and verified; a wrong tarball integrity or a wrong file checksum in
// the registry fails and installs nothing. Skipped only when the npm registry is unreachable.
#include "core/error.h"
#include "model/fetch.h"
#include "model/registry.h"
#include "tests/models_registry/test_support.h"

#include <gtest/gtest.h>

namespace upscaled::model {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using test::list_tree;
using test::TempFolder;

const fs::path kRegistry = fs::path(UPSCALED_SOURCE_DIR) / "models" / "registry.json";

bool npm_registry_reachable() {
  static const bool ok = [] {
    std::FILE* p = ::popen("npm view @upscalerjs/esrgan-slim@1.0.0 dist.integrity 2>/dev/null", "r");
    if (!p) return false;
    char buf[256];
    std::string out;
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    return ::pclose(p) == 0 && out.find("sha512-") != std::string::npos;
  }();
  return ok;
}

class FetchNpm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!npm_registry_reachable()) GTEST_SKIP() << "npm or the npm registry is not reachable from this machine";
    dir_ = t_.path() / "models";
  }
  // The shipped esrgan-slim entry with one edit, as a one-model registry.
  RegistryModel edited_slim(const std::function<void(json&)>& edit) {
    json shipped = json::parse(test::read_file(kRegistry));
    json slim;
    for (auto& m : shipped["models"])
      if (m["name"] == "esrgan-slim") slim = m;
    edit(slim);
    test::write_registry(t_.path() / "edited.json", json::array({slim}), "esrgan-slim");
    return load_registry(t_.path() / "edited.json").get("esrgan-slim");
  }
  std::string fetch_error(const RegistryModel& m, const FetchOptions& o = {}) {
    try {
      fetch_model(m, dir_, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  TempFolder t_;
  fs::path dir_;
};

TEST_F(FetchNpm, SlimEveryScaleInstalledAndVerified) {
  const Registry reg = load_registry(kRegistry);
  const FetchResult r = fetch_model(reg.get("esrgan-slim"), dir_, {});
  EXPECT_EQ(r.installed, (std::vector<int>{2, 3, 4, 8}));
  std::vector<std::string> expected;
  for (int s : {2, 3, 4, 8}) {
    const ResolvedModel m = resolve_model(reg, "esrgan-slim", s, dir_);  // re-hashes every file
    EXPECT_EQ(m.path, dir_ / "esrgan-slim" / ("x" + std::to_string(s)) / "model.json");
    EXPECT_EQ(m.files.size(), 2u);
  }
  // Only the model files, nothing else from the package, no temporary folder.
  EXPECT_EQ(list_tree(dir_),
            (std::vector<std::string>{
                "esrgan-slim", "esrgan-slim/x2", "esrgan-slim/x2/group1-shard1of1.bin", "esrgan-slim/x2/model.json",
                "esrgan-slim/x3", "esrgan-slim/x3/group1-shard1of1.bin", "esrgan-slim/x3/model.json", "esrgan-slim/x4",
                "esrgan-slim/x4/group1-shard1of1.bin", "esrgan-slim/x4/model.json", "esrgan-slim/x8",
                "esrgan-slim/x8/group1-shard1of1.bin", "esrgan-slim/x8/model.json"}));
}

TEST_F(FetchNpm, OneScaleOnly) {
  FetchOptions o;
  o.scales = {4};
  EXPECT_EQ(fetch_model(load_registry(kRegistry).get("esrgan-slim"), dir_, o).installed, std::vector<int>{4});
  EXPECT_EQ(list_tree(dir_).size(), 4u);  // esrgan-slim, x4, two files
}

TEST_F(FetchNpm, WrongTarballIntegrityInstallsNothing) {
  const auto m = edited_slim([](json& s) { s["source"]["integrity"] = "sha512-" + std::string(86, 'A') + "=="; });
  const std::string msg = fetch_error(m);
  EXPECT_NE(msg.find("upscalerjs-esrgan-slim-1.0.0.tgz (@upscalerjs/esrgan-slim@1.0.0): integrity mismatch"),
            std::string::npos)
      << msg;
  EXPECT_EQ(list_tree(dir_), std::vector<std::string>{});
}

TEST_F(FetchNpm, WrongFileChecksumInstallsNothing) {
  const auto m = edited_slim([](json& s) { s["variants"][1]["files"][1]["sha256"] = std::string(64, '0'); });
  FetchOptions o;
  o.all_scales = true;
  const std::string msg = fetch_error(m, o);
  EXPECT_NE(msg.find("package/models/x3/group1-shard1of1.bin: sha256 mismatch (expected " + std::string(64, '0')),
            std::string::npos)
      << msg;
  EXPECT_EQ(list_tree(dir_), std::vector<std::string>{}) << "x2 verified fine but must not be installed alone";
}

TEST(FetchNpmOffline, MissingNpmIsAClearError) {
  TempFolder t;
  test::ScopedEnv npm("UPSCALED_NPM", "/nonexistent/npm");
  std::string msg;
  try {
    fetch_model(load_registry(kRegistry).get("esrgan-slim"), t.path() / "models", {});
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("cannot run '/nonexistent/npm'"), std::string::npos) << msg;
  EXPECT_EQ(list_tree(t.path() / "models"), std::vector<std::string>{});
}

}  // namespace
}  // namespace upscaled::model
