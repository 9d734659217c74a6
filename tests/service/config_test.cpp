// Configuration: the example parses; every kind of mistake is reported with file, line and key.
#include "service/config.h"
#include "core/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

namespace upscaled::service {
namespace {

using ::testing::HasSubstr;

constexpr const char* kValid = R"(# comment
[service]
state_dir = "/var/lib/x"
settle_seconds = 0.5
gpus = [0, 1]
jobs_per_gpu = 2

[[watch]]
input = "/srv/in"
output = "/srv/out"
failed_dir = "/srv/failed"
on_done = "delete"
model = "bicubic"
crf = 20
)";

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "/etc/upscaled/test.toml");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

// Replaces line `line` (1-based) of kValid, or appends when line is 0.
std::string edit(int line, const std::string& replacement) {
  std::istringstream in(kValid);
  std::string out, l;
  for (int n = 1; std::getline(in, l); ++n) out += (n == line ? replacement : l) + "\n";
  if (line == 0) out += replacement + "\n";
  return out;
}

TEST(ServiceConfig, ExampleFileParsesWithDocumentedDefaults) {
  ServiceConfig c = load_config(std::string(UPSCALED_SOURCE_DIR) + "/config/upscaled.toml");
  ASSERT_EQ(c.watches.size(), 1u);
  EXPECT_EQ(c.state_dir, "/var/lib/upscaled");
  EXPECT_EQ(c.journal_path(), "/var/lib/upscaled/journal.sqlite3");
  EXPECT_EQ(c.max_attempts, 3);
  EXPECT_EQ(c.workers(), 1);
  EXPECT_EQ(c.watches[0].input, "/srv/upscaled/in");
  EXPECT_EQ(c.watches[0].on_done, InputAction::move);
  EXPECT_EQ(c.watches[0].done_dir, "/srv/upscaled/done");
}

TEST(ServiceConfig, ExampleDocumentsEveryKey) {
  // Every key of config.cpp's readers (listed here) appears as "key =" in the example; the
  // example parsing at all (ExampleFileParsesWithDocumentedDefaults) shows it has no other.
  std::ifstream in(std::string(UPSCALED_SOURCE_DIR) + "/config/upscaled.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* key : {"state_dir",
                          "journal",
                          "settle_seconds",
                          "rescan_interval_seconds",
                          "stop_timeout_seconds",
                          "max_attempts",
                          "retry_delay_seconds",
                          "transient_backoff_seconds",
                          "transient_backoff_max_seconds",
                          "gpus",
                          "jobs_per_gpu",
                          "keep_models",
                          "input",
                          "output",
                          "failed_dir",
                          "on_done",
                          "done_dir",
                          "recursive",
                          "extensions",
                          "output_extension",
                          "output_suffix",
                          "model",
                          "scale",
                          "device",
                          "precision",
                          "tile",
                          "models_dir",
                          "codec",
                          "crf",
                          "preset"}) {
    EXPECT_TRUE(std::regex_search(text, std::regex(std::string("\n") + key + " = "))) << key;
  }
}

TEST(ServiceConfig, ValidTextGivesValues) {
  ServiceConfig c = parse_config(kValid, "t.toml");
  EXPECT_DOUBLE_EQ(c.settle_seconds, 0.5);
  EXPECT_EQ(c.gpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(c.workers(), 4);
  EXPECT_EQ(c.watches[0].on_done, InputAction::remove);
  EXPECT_EQ(c.watches[0].crf, 20);
  EXPECT_EQ(c.watches[0].model, "bicubic");
}

TEST(ServiceConfig, GpuMemoryKeys) {
  std::string text = kValid;
  text.replace(text.find("jobs_per_gpu = 2\n"), 17,
               "jobs_per_gpu = 2\ngpu_memory_mb = 8192\ngpu_memory_wait_seconds = 12.5\n");
  ServiceConfig c = parse_config(text, "t.toml");
  EXPECT_EQ(c.gpu_memory_mb, 8192);
  EXPECT_DOUBLE_EQ(c.gpu_memory_wait_seconds, 12.5);
  EXPECT_TRUE(c.keep_models);  // models stay loaded between jobs unless turned off
  text.replace(text.find("gpu_memory_mb = 8192"), 20, "gpu_memory_mb = -1");
  EXPECT_THAT(error_of(text), HasSubstr("key 'service.gpu_memory_mb'"));
}

TEST(ServiceConfig, KeepModelsIsABoolean) {
  std::string text = kValid;
  text.replace(text.find("jobs_per_gpu = 2\n"), 17, "jobs_per_gpu = 2\nkeep_models = false\n");
  EXPECT_FALSE(parse_config(text, "t.toml").keep_models);
  text.replace(text.find("keep_models = false"), 19, "keep_models = 1");
  EXPECT_THAT(error_of(text), HasSubstr("key 'service.keep_models'"));
}

TEST(ServiceConfig, UnknownKeyNamesFileLineAndKey) {
  EXPECT_EQ(error_of(edit(5, "bogus = 3")), "/etc/upscaled/test.toml:5: key 'service.bogus': unknown key");
  EXPECT_EQ(error_of(edit(0, "colour = \"red\"")), "/etc/upscaled/test.toml:15: key 'watch[0].colour': unknown key");
  EXPECT_THAT(error_of(std::string(kValid) + "[extra]\n"), HasSubstr("test.toml:15: key 'extra': unknown key"));
}

TEST(ServiceConfig, BadValuesNameFileLineAndKey) {
  EXPECT_EQ(error_of(edit(14, "crf = 99")),
            "/etc/upscaled/test.toml:14: key 'watch[0].crf': must be between 0 and 51, got 99");
  EXPECT_EQ(error_of(edit(4, "settle_seconds = \"slow\"")),
            "/etc/upscaled/test.toml:4: key 'service.settle_seconds': expected a number");
  EXPECT_THAT(error_of(edit(12, "on_done = \"archive\"")),
              HasSubstr("test.toml:12: key 'watch[0].on_done': must be one of \"keep\" \"move\" \"delete\""));
  EXPECT_THAT(error_of(edit(9, "input = \"relative/in\"")),
              HasSubstr("test.toml:9: key 'watch[0].input': must be an absolute path"));
  EXPECT_THAT(error_of(edit(6, "jobs_per_gpu = 1.5")),
              HasSubstr("test.toml:6: key 'service.jobs_per_gpu': expected an integer"));
  EXPECT_THAT(error_of(edit(5, "gpus = [0, -1]")), HasSubstr("test.toml:5: key 'service.gpus'"));
  EXPECT_THAT(error_of(edit(10, "output = \"/srv/in\"")),
              HasSubstr("test.toml:10: key 'watch[0].output': must differ from input"));
}

TEST(ServiceConfig, MissingKeysAndSyntaxErrors) {
  EXPECT_THAT(error_of(edit(11, "")), HasSubstr("key 'watch[0].failed_dir': required key is missing"));
  EXPECT_THAT(error_of(edit(12, "on_done = \"move\"")), HasSubstr("key 'watch[0].done_dir': required key is missing"));
  EXPECT_THAT(error_of("[service]\nmax_attempts = 2\n"), HasSubstr("key 'watch': required key is missing"));
  EXPECT_THAT(error_of(edit(13, "model = ")), HasSubstr("/etc/upscaled/test.toml:13:"));
}

TEST(ServiceConfig, SystemdDropinListsEveryWrittenFolderQuoted) {
  ServiceConfig c = parse_config(edit(10, "output = \"/srv/out 100%\""), "t.toml");
  std::string d = systemd_dropin(c);
  EXPECT_THAT(d, HasSubstr("[Service]\n"));
  EXPECT_THAT(d, HasSubstr("ReadWritePaths=\"/var/lib/x\"\n"));
  EXPECT_THAT(d, HasSubstr("ReadWritePaths=\"/srv/in\"\n"));
  EXPECT_THAT(d, HasSubstr("ReadWritePaths=\"/srv/out 100%%\"\n"));
  EXPECT_THAT(d, HasSubstr("ReadWritePaths=\"/srv/failed\"\n"));
  EXPECT_EQ(d.find("ReadWritePaths=\"/var/lib/x\"\n"), d.rfind("ReadWritePaths=\"/var/lib/x\"\n"));  // once
}

TEST(ServiceConfig, MissingFileIsNamed) {
  try {
    load_config("/nonexistent/upscaled.toml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/upscaled.toml"));
  }
}

}  // namespace
}  // namespace upscaled::service
