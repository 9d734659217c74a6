// Private to model/torch: a TF.js "layers" model (model.json + binary weight shards) read
// into memory, before any network is built from it.
//
// Contract: read_tfjs_model() is synchronous, touches only the files named by model.json,
// and returns CPU float32 tensors it owns. Any problem (unreadable or malformed JSON, a
// missing or truncated shard, an unsupported dtype) throws upscaled::Error(ErrorCode::model)
// with one line naming the file and the problem.
#pragma once

#include "core/step_timer.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace upscaled::model::torchnet {

// One Keras layer of a Functional model_config.
struct TfjsLayer {
  std::string name;
  std::string class_name;           // "Conv2D", "Activation", "Concatenate", ...
  std::vector<std::string> inputs;  // names of the layers feeding it (first inbound node)
  nlohmann::json config;            // the layer's "config" object as written
};

struct TfjsModel {
  std::filesystem::path file;     // the model.json
  std::vector<TfjsLayer> layers;  // in file order (Keras writes them topologically sorted)
  std::string input_layer;
  std::string output_layer;
  std::map<std::string, torch::Tensor> weights;  // manifest name -> CPU float32, manifest shape
};

// `steps`, when given, gets two steps: the JSON parsed, then the layers and weights read.
TfjsModel read_tfjs_model(const std::filesystem::path& model_json, StepTimer* steps = nullptr);

// Reads the weightsManifest groups of `manifest` (paths relative to `dir`) into tensors.
// Exposed separately so that the error paths can be read on their own; used by read_tfjs_model.
std::map<std::string, torch::Tensor> read_tfjs_weights(const nlohmann::json& manifest, const std::filesystem::path& dir,
                                                       const std::filesystem::path& model_json);

}  // namespace upscaled::model::torchnet
