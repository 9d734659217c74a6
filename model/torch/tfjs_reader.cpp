// model.json reader: modelTopology.model_config (a Keras Functional model) and the
// weightsManifest. Only the first inbound node of each layer is used: the UpscalerJS graphs
// call every layer once, and a shared layer (several nodes) is rejected rather than guessed.
#include "core/error.h"
#include "model/torch/tfjs_model.h"

#include <fstream>
#include <set>

namespace upscaled::model::torchnet {
namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw Error(ErrorCode::model, file.string() + ": " + what);
}

// Keras writes the model I/O as [["name", node, tensor]]; exactly one of each is supported.
std::string single_endpoint(const nlohmann::json& config, const char* key, const std::filesystem::path& file) {
  if (!config.contains(key) || !config[key].is_array() || config[key].size() != 1 || !config[key][0].is_array() ||
      config[key][0].empty() || !config[key][0][0].is_string())
    fail(file, std::string("model_config.") + key + " must name exactly one layer");
  return config[key][0][0].get<std::string>();
}

TfjsLayer parse_layer(const nlohmann::json& j, const std::filesystem::path& file) {
  TfjsLayer layer;
  if (!j.is_object() || !j.contains("class_name") || !j.contains("config"))
    fail(file, "layer without class_name/config");
  layer.class_name = j["class_name"].get<std::string>();
  layer.config = j["config"];
  layer.name = j.contains("name") ? j["name"].get<std::string>() : layer.config.value("name", "");
  if (layer.name.empty()) fail(file, "a " + layer.class_name + " layer has no name");
  const auto& nodes = j.value("inbound_nodes", nlohmann::json::array());
  if (nodes.size() > 1) fail(file, "layer '" + layer.name + "' is shared (called more than once); not supported");
  if (nodes.size() == 1) {
    for (const auto& in : nodes[0]) {
      if (!in.is_array() || in.empty() || !in[0].is_string()) fail(file, "layer '" + layer.name + "' has a bad input");
      if (in.size() > 2 && in[2].is_number_integer() && in[2].get<int>() != 0)
        fail(file, "layer '" + layer.name + "' reads a secondary output; not supported");
      layer.inputs.push_back(in[0].get<std::string>());
    }
  }
  return layer;
}

}  // namespace

TfjsModel read_tfjs_model(const std::filesystem::path& model_json, StepTimer* steps) {
  std::ifstream in(model_json);
  if (!in) fail(model_json, "cannot open TF.js model.json");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(model_json, std::string("not valid JSON: ") + e.what());
  }
  if (steps) steps->step("model.json parsed");
  try {
    if (!doc.is_object() || !doc.contains("modelTopology"))
      fail(model_json, "no modelTopology (expected a TF.js layers model.json)");
    const auto& topology = doc["modelTopology"];
    const auto& model_config = topology.contains("model_config") ? topology["model_config"] : topology;
    const std::string kind = model_config.value("class_name", "");
    if (kind != "Functional" && kind != "Model")
      fail(model_json, "model_config.class_name is '" + kind + "' (expected a Keras Functional model)");
    const auto& config = model_config["config"];
    if (!config.contains("layers") || !config["layers"].is_array()) fail(model_json, "model_config has no layers");

    TfjsModel model;
    model.file = model_json;
    std::set<std::string> seen;
    for (const auto& j : config["layers"]) {
      TfjsLayer layer = parse_layer(j, model_json);
      for (const auto& input : layer.inputs)
        if (!seen.count(input))
          fail(model_json, "layer '" + layer.name + "' reads '" + input + "', which is not defined before it");
      if (!seen.insert(layer.name).second) fail(model_json, "layer name '" + layer.name + "' used twice");
      model.layers.push_back(std::move(layer));
    }
    model.input_layer = single_endpoint(config, "input_layers", model_json);
    model.output_layer = single_endpoint(config, "output_layers", model_json);
    if (!seen.count(model.input_layer) || !seen.count(model.output_layer))
      fail(model_json, "input/output layer not among the layers");
    model.weights =
        read_tfjs_weights(doc.value("weightsManifest", nlohmann::json()), model_json.parent_path(), model_json);
    if (steps) steps->step("layers and weights read");
    return model;
  } catch (const nlohmann::json::exception& e) {
    fail(model_json, std::string("malformed TF.js model: ") + e.what());
  }
}

}  // namespace upscaled::model::torchnet
