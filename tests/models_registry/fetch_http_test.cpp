// url-source fetching against a loopback HTTP server ($UPSCALED_MODEL_BASE_URL): a good
// download is installed and resolves; a wrong checksum, wrong size or HTTP error fails with
// the URL and the problem and leaves nothing in the models folder.
#include "core/error.h"
#include "model/fetch.h"
#include "model/registry.h"
#include "model/sha.h"
#include "tests/models_registry/loopback_http.h"
#include "tests/models_registry/test_support.h"

#include <gtest/gtest.h>

namespace upscaled::model {
namespace {
namespace fs = std::filesystem;
using test::list_tree;
using test::ScopedEnv;
using test::TempFolder;

std::string fetch_error(const RegistryModel& m, const fs::path& dir, const FetchOptions& o = {}) {
  try {
    fetch_model(m, dir, o);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::model);
    return e.what();
  }
  return "(no error)";
}

class FetchHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    good_ = std::string(100000, '\0');
    for (std::size_t i = 0; i < good_.size(); ++i) good_[i] = static_cast<char>((i * 2654435761u) >> 13);
    bad_ = good_;
    bad_[good_.size() / 2] ^= 1;  // same size, wrong bytes
    const std::string sha = sha256_bytes(good_);
    test::write_registry(t_.path() / "registry.json",
                         {test::url_model("good", "good.pth", sha, good_.size()),
                          test::url_model("tampered", "tampered.pth", sha, good_.size()),
                          test::url_model("short", "short.pth", sha, good_.size()),
                          test::url_model("missing", "missing.pth", sha, good_.size()),
                          test::url_model("unverified", "unverified.pth", "", 0)},
                         "good");
    registry_ = load_registry(t_.path() / "registry.json");
    server_.serve("/good.pth", good_);
    server_.serve("/tampered.pth", bad_);
    server_.serve("/short.pth", good_.substr(0, 1000));
    server_.serve("/unverified.pth", good_);
    dir_ = t_.path() / "models";
  }
  TempFolder t_;
  test::LoopbackHttpServer server_;
  ScopedEnv base_{"UPSCALED_MODEL_BASE_URL", server_.base_url() + "/"};
  Registry registry_;
  fs::path dir_;
  std::string good_, bad_;
};

TEST_F(FetchHttp, BaseUrlOverrideKeepsTheFileName) {
  EXPECT_EQ(effective_url(registry_.get("good").variants[0].files[0]), server_.base_url() + "/good.pth");
}

TEST_F(FetchHttp, GoodChecksumInstallsAtomicallyAndResolves) {
  std::vector<std::string> lines;
  FetchOptions o;
  o.progress = [&](const std::string& l) { lines.push_back(l); };
  const FetchResult r = fetch_model(registry_.get("good"), dir_, o);
  EXPECT_EQ(r.installed, std::vector<int>{4});
  EXPECT_EQ(test::read_file(dir_ / "good" / "good.pth"), good_);
  EXPECT_EQ(list_tree(dir_), (std::vector<std::string>{"good", "good/good.pth"}));  // no temporary left
  EXPECT_EQ(resolve_model(registry_, "good", 4, dir_).path, dir_ / "good" / "good.pth");
  EXPECT_FALSE(lines.empty());

  // Second fetch: verified in place, no download.
  const int before = server_.requests();
  const FetchResult again = fetch_model(registry_.get("good"), dir_, {});
  EXPECT_TRUE(again.installed.empty());
  EXPECT_EQ(again.present, std::vector<int>{4});
  EXPECT_EQ(server_.requests(), before);
}

TEST_F(FetchHttp, WrongChecksumFailsAndLeavesNothing) {
  const std::string msg = fetch_error(registry_.get("tampered"), dir_);
  EXPECT_NE(msg.find(server_.base_url() + "/tampered.pth: sha256 mismatch (expected " + sha256_bytes(good_) + ", got " +
                     sha256_bytes(bad_) + "); nothing installed"),
            std::string::npos)
      << msg;
  EXPECT_EQ(server_.requests(), 1);
  EXPECT_EQ(list_tree(dir_), std::vector<std::string>{});
}

TEST_F(FetchHttp, WrongChecksumDoesNotReplaceAnInstalledCorruptFile) {
  // A corrupt installed copy is re-fetched; a bad download must not be put in its place.
  test::write_file(dir_ / "tampered" / "tampered.pth", "old");
  fetch_error(registry_.get("tampered"), dir_);
  EXPECT_EQ(test::read_file(dir_ / "tampered" / "tampered.pth"), "old");
  EXPECT_EQ(list_tree(dir_), (std::vector<std::string>{"tampered", "tampered/tampered.pth"}));
}

TEST_F(FetchHttp, ShortDownloadAndHttpErrorFail) {
  EXPECT_NE(fetch_error(registry_.get("short"), dir_).find("size mismatch (expected 100000 bytes, got 1000)"),
            std::string::npos);
  const std::string msg = fetch_error(registry_.get("missing"), dir_);
  EXPECT_NE(msg.find(server_.base_url() + "/missing.pth: download failed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("404"), std::string::npos) << msg;
  EXPECT_EQ(list_tree(dir_), std::vector<std::string>{});
}

TEST_F(FetchHttp, UnknownChecksumNeedsAllowUnverified) {
  const std::string msg = fetch_error(registry_.get("unverified"), dir_);
  EXPECT_NE(msg.find("no sha256 for it; refusing to install an unverified file (pass --allow-unverified"),
            std::string::npos)
      << msg;
  EXPECT_EQ(server_.requests(), 0) << "refused before downloading";
  FetchOptions o;
  o.allow_unverified = true;
  std::string warning;
  o.progress = [&](const std::string& l) {
    if (l.find("WARNING") != std::string::npos) warning = l;
  };
  EXPECT_EQ(fetch_model(registry_.get("unverified"), dir_, o).installed, std::vector<int>{4});
  EXPECT_NE(warning.find(sha256_bytes(good_)), std::string::npos) << warning;
}

TEST_F(FetchHttp, ShippedRealEsrganEntryRejectsAWrongFile) {
  // The real registry entry, served a fake body of the right name: the known size stops it.
  const Registry shipped = load_registry(fs::path(UPSCALED_SOURCE_DIR) / "models" / "registry.json");
  server_.serve("/RealESRGAN_x4plus.pth", good_);
  const std::string msg = fetch_error(shipped.get("RealESRGAN_x4plus"), dir_);
  EXPECT_NE(msg.find("RealESRGAN_x4plus.pth: size mismatch (expected 67040989 bytes, got 100000)"), std::string::npos)
      << msg;
  EXPECT_EQ(list_tree(dir_), std::vector<std::string>{});
}

}  // namespace
}  // namespace upscaled::model
