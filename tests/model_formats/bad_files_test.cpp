// Bad model files: each gives one Error(ErrorCode::model) whose single-line message names the
// file and the problem. Truncated files are cut from good fixtures at test time; the others
// were written by scripts/gen_pth_fixtures.py.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>

#include "core/error.h"
#include "model/torch/network.h"
#include "tests/model_formats/npy_reader.h"

namespace upscaled::model::torchnet {
namespace {

using test::realesrgan_fixture;
using Loader = std::function<std::unique_ptr<Network>(const std::filesystem::path&)>;

// Runs the loader, expects Error(model) naming `path`, on one line, containing `needle`.
void expect_model_error(const Loader& load, const std::filesystem::path& path, const std::string& needle) {
  try {
    load(path);
    ADD_FAILURE() << path << " loaded; expected an error containing \"" << needle << "\"";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), ErrorCode::model) << msg;
    EXPECT_EQ(msg.rfind(path.string() + ": ", 0), 0u) << "message does not start with the file: " << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
  }
}

class BadFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("upscaled_bad_files_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The first `keep` bytes of a fixture (negative: all but the last -keep bytes).
  std::filesystem::path truncated(const std::string& fixture, std::ptrdiff_t keep) {
    std::ifstream in(realesrgan_fixture(fixture), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t n = keep >= 0 ? static_cast<size_t>(keep) : bytes.size() - static_cast<size_t>(-keep);
    return write("truncated_" + fixture, std::string(bytes.data(), n));
  }
  std::filesystem::path write(const std::string& name, const std::string& content) {
    const std::filesystem::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  std::filesystem::path dir_;
};

TEST_F(BadFiles, TruncatedPth) {
  expect_model_error(load_pth_network, truncated("rrdb_x4.pth", -2000), "corrupt or truncated zip archive");
  expect_model_error(load_pth_network, truncated("rrdb_x4.pth", 3), "not a PyTorch zip archive");
}

TEST_F(BadFiles, TruncatedSafetensors) {
  expect_model_error(load_safetensors_network, truncated("rrdb_x2.safetensors", -100),
                     "truncated safetensors file: tensor '");
  expect_model_error(load_safetensors_network, truncated("rrdb_x2.safetensors", 200),
                     "truncated safetensors file: header of");
  expect_model_error(load_safetensors_network, truncated("rrdb_x2.safetensors", 5),
                     "truncated safetensors file (5 bytes)");
}

TEST_F(BadFiles, MissingKey) {
  expect_model_error(load_pth_network, realesrgan_fixture("bad_missing_key.pth"),
                     "SRVGGNetCompact: missing key 'body.4.weight'");
}

TEST_F(BadFiles, WrongShape) {
  expect_model_error(load_safetensors_network, realesrgan_fixture("bad_wrong_shape.safetensors"),
                     "SRVGGNetCompact: 'body.3.weight' has shape [7], expected [8]");
}

TEST_F(BadFiles, UnexpectedKeyMeansAnotherArchitecture) {
  expect_model_error(load_pth_network, realesrgan_fixture("bad_unexpected_key.pth"),
                     "SRVGGNetCompact: 1 unexpected key(s) 'body.2.running_mean'");
}

TEST_F(BadFiles, UnknownArchitectureSaysWhatWasExpected) {
  expect_model_error(load_pth_network, realesrgan_fixture("bad_unknown_arch.pth"),
                     "unknown network: expected Real-ESRGAN RRDBNet keys (conv_first, body.N.rdb1.conv1, ..., "
                     "conv_last) or SRVGGNetCompact keys (body.0 conv, body.1 PReLU, ...); found 2 tensors: "
                     "'encoder.bias', 'encoder.weight'");
}

TEST_F(BadFiles, NotAStateDict) {
  expect_model_error(load_pth_network, realesrgan_fixture("bad_no_tensors.pth"),
                     "'epoch' is a int; expected a state dict of tensors");
  expect_model_error(load_pth_network, write("legacy.pth", std::string("\x80\x02\x8a\x0a", 4)),
                     "legacy (pre-1.6, non-zip) torch.save format");
  expect_model_error(load_safetensors_network, write("text.safetensors", "hello, this is not a model"),
                     "not a safetensors file");
}

TEST_F(BadFiles, MissingFile) {
  expect_model_error(load_pth_network, dir_ / "absent.pth", "model file not found");
  expect_model_error(load_safetensors_network, dir_ / "absent.safetensors", "model file not found");
  expect_model_error(load_torchscript_network, dir_ / "absent.pt", "model file not found");
}

TEST_F(BadFiles, StateDictIsNotTorchScript) {
  expect_model_error(load_torchscript_network, realesrgan_fixture("srvgg_x2.pth"), "not a loadable TorchScript module");
  expect_model_error(load_torchscript_network, truncated("srvgg_x2_traced.pt", -1000),
                     "not a loadable TorchScript module");
}

}  // namespace
}  // namespace upscaled::model::torchnet
