// Bad model files give one-line Error(ErrorCode::model) messages naming the file and the
// problem. Built on a small valid synthetic model, each case breaking one thing.
#include "model/network_loader.h"
#include "tests/model_tfjs/synthetic_model.h"
#include "tests/model_tfjs/tfjs_test_util.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <fstream>

namespace upscaled::test {
namespace {

namespace fs = std::filesystem;

class BadFiles : public testing::Test {
 protected:
  void SetUp() override {
    weights_ = {{"Conv/kernel", {3, 3, 3, 4}, std::vector<float>(108, 0.01f)},
                {"Conv/bias", {4}, {0, 0, 0, 0}},
                {"SR/kernel", {1, 1, 4, 3}, std::vector<float>(12, 0.5f)},
                {"SR/bias", {3}, {0, 0, 0}}};
    layers_ = {input_layer("LR"), conv_layer("Conv", "LR", 4, 3), conv_layer("SR", "Conv", 3, 1)};
    doc_ = model_document(layers_, weights_);
  }
  void write() { write_model(dir_.path(), doc_, weights_); }
  fs::path model_json() const { return dir_.path() / "model.json"; }
  fs::path shard() const { return dir_.path() / "group1-shard1of1.bin"; }

  // Loads `path` and returns the error message; fails the test unless Error(model) is thrown.
  std::string load_error(const fs::path& path) {
    model::ModelRequest request;
    request.name = path.string();
    request.device = "cpu";
    try {
      model::load_network_upscaler(request);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::model) << e.what();
      const std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
      return msg;
    }
    ADD_FAILURE() << "no error loading " << path;
    return {};
  }

  TempDir dir_;
  std::vector<SyntheticWeight> weights_;
  nlohmann::json layers_;
  nlohmann::json doc_;
};

TEST_F(BadFiles, ValidModelLoads) {
  write();
  model::ModelRequest request;
  request.name = dir_.path().string();  // a folder holding model.json
  request.device = "cpu";
  EXPECT_EQ(model::load_network_upscaler(request)->scale(), 1);
}

TEST_F(BadFiles, TruncatedShard) {
  write();
  fs::resize_file(shard(), fs::file_size(shard()) - 10);
  const auto msg = load_error(model_json());
  EXPECT_NE(msg.find(shard().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST_F(BadFiles, MissingShard) {
  write();
  fs::remove(shard());
  const auto msg = load_error(model_json());
  EXPECT_NE(msg.find(shard().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST_F(BadFiles, ShardLongerThanManifest) {
  write();
  std::ofstream(shard(), std::ios::binary | std::ios::app) << "extra";
  const auto msg = load_error(model_json());
  EXPECT_NE(msg.find(shard().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("manifest describes"), std::string::npos) << msg;
}

TEST_F(BadFiles, MissingWeight) {
  doc_["weightsManifest"][0]["weights"][2]["name"] = "Other/kernel";
  write();
  const auto msg = load_error(model_json());
  EXPECT_NE(msg.find(model_json().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("weight 'SR/kernel' is missing"), std::string::npos) << msg;
}

TEST_F(BadFiles, WrongKernelShape) {
  doc_["weightsManifest"][0]["weights"][0]["shape"] = {3, 3, 4, 3};  // same element count
  write();
  const auto msg = load_error(model_json());
  EXPECT_NE(msg.find(model_json().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("layer 'Conv': kernel has shape [3,3,4,3] but the topology needs [3,3,3,4]"), std::string::npos)
      << msg;
}

TEST_F(BadFiles, BadJson) {
  write();
  std::ofstream(model_json()) << "{\"modelTopology\": {";
  const auto msg = load_error(model_json());
  EXPECT_NE(msg.find(model_json().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
}

TEST_F(BadFiles, NotALayersModel) {
  write();
  std::ofstream(model_json()) << R"({"format": "graph-model", "weightsManifest": []})";
  const auto msg = load_error(model_json());
  EXPECT_NE(msg.find("no modelTopology"), std::string::npos) << msg;
}

TEST_F(BadFiles, UnsupportedLayer) {
  doc_["modelTopology"]["model_config"]["config"]["layers"][1]["class_name"] = "Lambda";
  write();
  const auto msg = load_error(model_json());
  EXPECT_NE(msg.find("layer 'Conv': class 'Lambda' is not supported"), std::string::npos) << msg;
}

TEST_F(BadFiles, UnknownFileType) {
  const fs::path onnx = dir_.path() / "model.onnx";
  std::ofstream(onnx) << "x";
  const auto msg = load_error(onnx);
  EXPECT_NE(msg.find(onnx.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected a TF.js model.json, .pth, .safetensors"), std::string::npos) << msg;
}

TEST_F(BadFiles, MissingPathAndEmptyFolder) {
  EXPECT_NE(load_error(dir_.path() / "nope.json").find("no such model file"), std::string::npos);
  EXPECT_NE(load_error(dir_.path()).find("folder holds no model.json"), std::string::npos);
}

TEST_F(BadFiles, WrongScaleRequested) {
  write();
  model::ModelRequest request;
  request.name = model_json().string();
  request.device = "cpu";
  request.scale = 4;
  try {
    model::load_network_upscaler(request);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::model);
    EXPECT_NE(std::string(e.what()).find("upscales x1 but x4 was requested"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace upscaled::test
