// Writes small TF.js layers models (model.json + one shard) with chosen weights, so that
// the reader's layout handling and error paths are tested without the UpscalerJS packages.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace upscaled::test {

struct SyntheticWeight {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;  // row-major in `shape` (HWIO for kernels, as TF stores them)
};

nlohmann::json input_layer(const std::string& name);
nlohmann::json conv_layer(const std::string& name, const std::string& input, int filters, int kernel,
                          const std::string& padding = "same");
nlohmann::json layer(const std::string& class_name, const std::string& name, const std::vector<std::string>& inputs,
                     nlohmann::json config = nlohmann::json::object());

// model.json's document for these layers (first is the input, last the output) and weights
// stored in dir/group1-shard1of1.bin.
nlohmann::json model_document(const nlohmann::json& layers, const std::vector<SyntheticWeight>& weights);
void write_model(const std::filesystem::path& dir, const nlohmann::json& document,
                 const std::vector<SyntheticWeight>& weights);

}  // namespace upscaled::test
