// The shipped registry is complete and valid; resolve_model() reports unfetched, truncated
// and corrupted files with the file name and the fix; bad registries are rejected.
#include "model/registry.h"
#include "core/error.h"
#include "model/sha.h"
#include "tests/models_registry/test_support.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace upscaled::model {
namespace {
namespace fs = std::filesystem;
using test::ScopedEnv;
using test::TempFolder;
using test::write_file;

const fs::path kRegistry = fs::path(UPSCALED_SOURCE_DIR) / "models" / "registry.json";

std::string error_of(const std::function<void()>& f, ErrorCode* code = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return "(no error)";
}

TEST(Sha, KnownAnswers) {
  EXPECT_EQ(sha256_bytes("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  TempFolder t;
  write_file(t.path() / "abc", "abc");
  EXPECT_EQ(sha256_file(t.path() / "abc"), sha256_bytes("abc"));
  // From `printf abc | openssl dgst -sha512 -binary | base64`.
  EXPECT_EQ(sha512_integrity_file(t.path() / "abc"),
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==");
}

TEST(Registry, ShippedRegistryIsFoundAndEveryEntryIsComplete) {
  ScopedEnv env("UPSCALED_REGISTRY", kRegistry.string());
  const Registry r = load_registry();
  EXPECT_EQ(r.default_model, "esrgan-slim");
  std::set<std::string> names;
  for (const auto& m : r.models) names.insert(m.name);
  const std::set<std::string> expected{"esrgan-slim",         "esrgan-medium",     "esrgan-thick",
                                       "RealESRGAN_x4plus",   "RealESRGAN_x2plus", "realesr-animevideov3",
                                       "realesr-general-x4v3"};
  EXPECT_EQ(names, expected);
  for (const auto& m : r.models) {
    SCOPED_TRACE(m.name);
    EXPECT_FALSE(m.architecture.empty());
    EXPECT_FALSE(m.license.empty());
    EXPECT_FALSE(m.description.empty());
    if (m.source.kind == SourceKind::npm) {
      // Every scale each UpscalerJS package ships (checked against the tarballs).
      EXPECT_EQ(m.scales(), (std::vector<int>{2, 3, 4, 8}));
      EXPECT_EQ(m.format, "tfjs-layers");
      EXPECT_EQ(m.source.package, "@upscalerjs/" + m.name);
      EXPECT_EQ(m.source.version, "1.0.0");
      EXPECT_TRUE(std::regex_match(m.source.integrity, std::regex("sha512-[A-Za-z0-9+/]{86}==")));
    } else {
      EXPECT_EQ(m.format, "pth");
      EXPECT_EQ(m.scales().size(), 1u);
      EXPECT_FALSE(m.source.checksum_provenance.empty());
    }
    for (const auto& v : m.variants) {
      bool has_entry = false;
      for (const auto& f : v.files) {
        SCOPED_TRACE(f.path);
        EXPECT_TRUE(is_sha256_hex(f.sha256)) << "every shipped file has a known checksum";
        EXPECT_GT(f.size, 0u);
        has_entry |= f.path == v.entry;
        if (m.source.kind == SourceKind::url) {
          EXPECT_EQ(f.url.rfind("https://github.com/xinntao/Real-ESRGAN/releases/download/", 0), 0u);
        } else {
          EXPECT_EQ(f.archive_path.rfind("package/models/x" + std::to_string(v.scale) + "/", 0), 0u);
        }
      }
      EXPECT_TRUE(has_entry);
      if (m.source.kind == SourceKind::npm) {
        EXPECT_EQ(fs::path(v.entry).filename(), "model.json");
      }
    }
  }
  EXPECT_EQ(default_model_name(), "esrgan-slim");
}

TEST(Registry, FallsBackToTheSourceTreeWithoutEnvironment) {
  ::unsetenv("UPSCALED_REGISTRY");
  EXPECT_EQ(fs::canonical(registry_path()), fs::canonical(kRegistry));
}

TEST(Registry, RejectsBrokenRegistries) {
  TempFolder t;
  const auto bad = [&](const std::string& text) {
    write_file(t.path() / "r.json", text);
    return error_of([&] { load_registry(t.path() / "r.json"); });
  };
  EXPECT_NE(bad("{not json").find("not valid JSON"), std::string::npos);
  nlohmann::json m = test::url_model("a", "a.pth", std::string(64, 'a'), 10);
  nlohmann::json r = {{"schema_version", 1}, {"default_model", "a"}, {"models", {m}}};
  EXPECT_EQ(bad(r.dump()), "(no error)");

  auto variant = [&](auto&& edit) {
    nlohmann::json copy = r;
    edit(copy["models"][0]);
    return bad(copy.dump());
  };
  EXPECT_NE(variant([](auto& x) { x.erase("license"); }).find("'license'"), std::string::npos);
  EXPECT_NE(variant([](auto& x) { x["variants"][0]["files"][0]["sha256"] = "1234"; }).find("64 lowercase hex"),
            std::string::npos);
  EXPECT_NE(variant([](auto& x) { x["variants"][0]["files"][0]["path"] = "../../etc/passwd"; }).find("unsafe path"),
            std::string::npos);
  EXPECT_NE(variant([](auto& x) { x["default_scale"] = 3; }).find("default_scale 3"), std::string::npos);
  EXPECT_NE(variant([](auto& x) { x["variants"][0]["entry"] = "a/other.pth"; }).find("not one of its files"),
            std::string::npos);
  nlohmann::json nodefault = r;
  nodefault["default_model"] = "zzz";
  EXPECT_NE(bad(nodefault.dump()).find("default_model 'zzz'"), std::string::npos);
}

class Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string content = "pretend weights";
    sha_ = sha256_bytes(content);
    test::write_registry(
        t_.path() / "registry.json",
        {test::url_model("tiny", "tiny.pth", sha_, content.size()), test::url_model("nochecksum", "n.pth", "", 0)},
        "tiny");
    registry_ = load_registry(t_.path() / "registry.json");
    dir_ = t_.path() / "models";
    content_ = content;
  }
  TempFolder t_;
  Registry registry_;
  fs::path dir_;
  std::string sha_, content_;
};

TEST_F(Resolve, UnfetchedModelNamesTheFileAndTheFetchCommand) {
  ErrorCode code{};
  const std::string msg = error_of([&] { resolve_model(registry_, "tiny", 0, dir_); }, &code);
  EXPECT_EQ(code, ErrorCode::model);
  EXPECT_NE(msg.find((dir_ / "tiny" / "tiny.pth").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("is not fetched; run: upscaled models fetch tiny --models-dir " + dir_.string()),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST_F(Resolve, ShippedRegistryHintForMultiScaleModelInDefaultFolder) {
  ScopedEnv env("UPSCALED_MODELS_DIR", dir_.string());
  const Registry shipped = load_registry(kRegistry);
  const std::string msg = error_of([&] { resolve_model(shipped, "esrgan-slim", 4, dir_); });
  EXPECT_NE(msg.find("esrgan-slim/x4/model.json: model 'esrgan-slim' x4 is not fetched; run: upscaled models fetch "
                     "esrgan-slim --scale 4"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("--models-dir"), std::string::npos) << msg;
}

TEST_F(Resolve, VerifiedFileResolves) {
  write_file(dir_ / "tiny" / "tiny.pth", content_);
  const ResolvedModel r = resolve_model(registry_, "tiny", 4, dir_);
  EXPECT_EQ(r.path, dir_ / "tiny" / "tiny.pth");
  EXPECT_EQ(r.scale, 4);
  EXPECT_EQ(r.architecture, "realesrgan-srvgg-compact");
  EXPECT_EQ(r.files.size(), 1u);
}

TEST_F(Resolve, CorruptedFileIsAChecksumMismatch) {
  std::string corrupt = content_;
  corrupt[3] ^= 0x20;  // same size, one bit flipped
  write_file(dir_ / "tiny" / "tiny.pth", corrupt);
  const std::string msg = error_of([&] { resolve_model(registry_, "tiny", 0, dir_); });
  EXPECT_NE(msg.find("sha256 mismatch (expected " + sha_ + ", got " + sha256_bytes(corrupt) + ")"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find((dir_ / "tiny" / "tiny.pth").string()), std::string::npos);
  EXPECT_NE(msg.find("--force"), std::string::npos);
}

TEST_F(Resolve, TruncatedFileIsASizeMismatch) {
  write_file(dir_ / "tiny" / "tiny.pth", content_.substr(0, 5));
  const std::string msg = error_of([&] { resolve_model(registry_, "tiny", 0, dir_); });
  EXPECT_NE(msg.find("size mismatch (expected " + std::to_string(content_.size()) + " bytes, got 5)"),
            std::string::npos)
      << msg;
}

TEST_F(Resolve, UnknownNameScaleAndChecksumAreErrors) {
  EXPECT_NE(error_of([&] { resolve_model(registry_, "nope", 0, dir_); }).find("not in the registry"),
            std::string::npos);
  EXPECT_NE(error_of([&] { resolve_model(registry_, "tiny", 3, dir_); }).find("has no x3 variant (scales: 4"),
            std::string::npos);
  write_file(dir_ / "nochecksum" / "n.pth", "x");
  EXPECT_NE(error_of([&] { resolve_model(registry_, "nochecksum", 0, dir_); }).find("no sha256 in the registry"),
            std::string::npos);
}

}  // namespace
}  // namespace upscaled::model
