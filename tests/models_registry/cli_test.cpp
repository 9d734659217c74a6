// `upscaled models list | fetch | verify` through the real binary, with a temporary
// models folder ($UPSCALED_MODELS_DIR), a test registry ($UPSCALED_REGISTRY) and a loopback
// HTTP server ($UPSCALED_MODEL_BASE_URL). Exit codes from core/error.h: model = 6.
#include "model/sha.h"
#include "tests/models_registry/loopback_http.h"
#include "tests/models_registry/test_support.h"

#include <gtest/gtest.h>

namespace upscaled {
namespace {
namespace fs = std::filesystem;
using test::run_cli;
using test::ScopedEnv;

class ModelsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string sha = model::sha256_bytes(body_);
    test::write_registry(t_.path() / "registry.json",
                         {test::url_model("alpha", "alpha.pth", sha, body_.size()),
                          test::url_model("beta", "beta.pth", sha, body_.size(), 2)},
                         "beta");
    server_.serve("/alpha.pth", body_);
    server_.serve("/beta.pth", "tampered body of 33 bytes........");
  }
  const std::string body_ = "weights of alpha, 33 bytes long..";
  test::TempFolder t_;
  test::LoopbackHttpServer server_;
  fs::path dir_ = t_.path() / "models";
  ScopedEnv models_dir_{"UPSCALED_MODELS_DIR", dir_.string()};
  ScopedEnv registry_{"UPSCALED_REGISTRY", (t_.path() / "registry.json").string()};
  ScopedEnv base_{"UPSCALED_MODEL_BASE_URL", server_.base_url()};
};

TEST_F(ModelsCli, ListShowsModelsDefaultAndInstalledScales) {
  auto r = run_cli("models list");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("alpha "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("beta *"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("realesrgan-srvgg-compact"), std::string::npos);

  ASSERT_EQ(run_cli("models fetch alpha").code, 0);
  r = run_cli("models list --json");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["default_model"], "beta");
  EXPECT_EQ(j["models"][0]["name"], "alpha");
  EXPECT_EQ(j["models"][0]["installed_scales"], nlohmann::json::array({4}));
  EXPECT_EQ(j["models"][1]["installed_scales"], nlohmann::json::array());
  EXPECT_EQ(j["models"][1]["default"], true);
}

TEST_F(ModelsCli, FetchThenVerifyThenCorruptionFails) {
  auto r = run_cli("models fetch alpha");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(test::read_file(dir_ / "alpha" / "alpha.pth"), body_);
  r = run_cli("models verify");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("ok   alpha x4"), std::string::npos) << r.output;

  std::string corrupt = body_;
  corrupt[0] = 'W';
  test::write_file(dir_ / "alpha" / "alpha.pth", corrupt);
  r = run_cli("models verify alpha");
  EXPECT_EQ(r.code, 6) << r.output;
  EXPECT_NE(r.output.find("FAIL alpha x4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sha256 mismatch (expected " + model::sha256_bytes(body_)), std::string::npos);

  r = run_cli("models fetch alpha --force");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(run_cli("models verify alpha").code, 0);
}

TEST_F(ModelsCli, BadDownloadExitsSixAndInstallsNothing) {
  auto r = run_cli("models fetch beta");
  EXPECT_EQ(r.code, 6) << r.output;
  EXPECT_NE(r.output.find("upscaled: error: " + server_.base_url() + "/beta.pth: sha256 mismatch"), std::string::npos)
      << r.output;
  EXPECT_EQ(test::list_tree(dir_), std::vector<std::string>{});
}

TEST_F(ModelsCli, ErrorsNameTheProblem) {
  auto r = run_cli("models fetch nosuch");
  EXPECT_EQ(r.code, 6);
  EXPECT_NE(r.output.find("model 'nosuch' is not in the registry"), std::string::npos) << r.output;
  r = run_cli("models fetch alpha --scale 3");
  EXPECT_EQ(r.code, 6);
  EXPECT_NE(r.output.find("has no x3 variant"), std::string::npos) << r.output;
  r = run_cli("models verify alpha");
  EXPECT_EQ(r.code, 6);
  EXPECT_NE(r.output.find("is not fetched; run: upscaled models fetch alpha"), std::string::npos) << r.output;
  EXPECT_EQ(run_cli("models").code, 2);  // a models subcommand is required
}

TEST_F(ModelsCli, ModelsDirOptionOverridesTheEnvironment) {
  const fs::path other = t_.path() / "other";
  auto r = run_cli("models fetch alpha --models-dir '" + other.string() + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(other / "alpha" / "alpha.pth"));
  EXPECT_FALSE(fs::exists(dir_ / "alpha"));
}

TEST(ModelsCliShipped, ListsTheShippedRegistry) {
  test::TempFolder t;
  ScopedEnv models_dir("UPSCALED_MODELS_DIR", t.path().string());
  ScopedEnv registry("UPSCALED_REGISTRY", (fs::path(UPSCALED_SOURCE_DIR) / "models" / "registry.json").string());
  auto r = run_cli("models list");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* name : {"esrgan-slim *", "esrgan-medium", "esrgan-thick", "RealESRGAN_x4plus", "RealESRGAN_x2plus",
                           "realesr-animevideov3", "realesr-general-x4v3"})
    EXPECT_NE(r.output.find(name), std::string::npos) << name << "\n" << r.output;
}

}  // namespace
}  // namespace upscaled
