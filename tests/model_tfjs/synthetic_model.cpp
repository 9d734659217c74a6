#include "tests/model_tfjs/synthetic_model.h"

#include <fstream>

namespace upscaled::test {

nlohmann::json input_layer(const std::string& name) {
  return {{"class_name", "InputLayer"},
          {"name", name},
          {"config", {{"batch_input_shape", {nullptr, nullptr, nullptr, 3}}, {"dtype", "float32"}, {"name", name}}},
          {"inbound_nodes", nlohmann::json::array()}};
}

nlohmann::json layer(const std::string& class_name, const std::string& name, const std::vector<std::string>& inputs,
                     nlohmann::json config) {
  nlohmann::json node = nlohmann::json::array();
  for (const auto& in : inputs) node.push_back({in, 0, 0, nlohmann::json::object()});
  config["name"] = name;
  return {{"class_name", class_name}, {"name", name}, {"config", config}, {"inbound_nodes", {node}}};
}

nlohmann::json conv_layer(const std::string& name, const std::string& input, int filters, int kernel,
                          const std::string& padding) {
  return layer("Conv2D", name, {input},
               {{"filters", filters},
                {"kernel_size", {kernel, kernel}},
                {"strides", {1, 1}},
                {"padding", padding},
                {"data_format", "channels_last"},
                {"dilation_rate", {1, 1}},
                {"groups", 1},
                {"activation", "linear"},
                {"use_bias", true}});
}

nlohmann::json model_document(const nlohmann::json& layers, const std::vector<SyntheticWeight>& weights) {
  nlohmann::json manifest_weights = nlohmann::json::array();
  for (const auto& w : weights)
    manifest_weights.push_back({{"name", w.name}, {"shape", w.shape}, {"dtype", "float32"}});
  const std::string in = layers.front()["name"], out = layers.back()["name"];
  return {{"format", "layers-model"},
          {"modelTopology",
           {{"keras_version", "2.10.0"},
            {"backend", "tensorflow"},
            {"model_config",
             {{"class_name", "Functional"},
              {"config",
               {{"name", "model"},
                {"layers", layers},
                {"input_layers", {{in, 0, 0}}},
                {"output_layers", {{out, 0, 0}}}}}}}}},
          {"weightsManifest", {{{"paths", {"group1-shard1of1.bin"}}, {"weights", manifest_weights}}}}};
}

void write_model(const std::filesystem::path& dir, const nlohmann::json& document,
                 const std::vector<SyntheticWeight>& weights) {
  std::ofstream(dir / "model.json") << document.dump(1);
  std::ofstream shard(dir / "group1-shard1of1.bin", std::ios::binary);
  for (const auto& w : weights)
    shard.write(reinterpret_cast<const char*>(w.values.data()), static_cast<std::streamsize>(w.values.size() * 4));
}

}  // namespace upscaled::test
